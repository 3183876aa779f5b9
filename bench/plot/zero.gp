# Seed 003: zero-page scan and PoD sweep bandwidth (gnuplot -e "dir='report'" zero.gp)
set terminal pngcairo size 1500,560
set output dir.'/zero.png'
set multiplot layout 1,2 title 'seed 003: zero detection, one core'
set style data histograms
set style fill solid 0.8 border -1
set boxwidth 0.7
set yrange [0:*]
set grid ytics
set xtics rotate by -30
set key off
set title 'scan of zero pages (GB/s, median of rounds)'
plot dir.'/zero.dat' index 0 using 2:xtic(1) linecolor rgb '#4477aa'
set title 'seed-003 sweep of a guest image (GB/s)'
plot dir.'/zero.dat' index 1 using 2:xtic(1) linecolor rgb '#cc6677'
unset multiplot
