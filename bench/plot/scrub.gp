# Zeroing bandwidth of a dying guest's memory (gnuplot -e "dir='report'" scrub.gp)
set terminal pngcairo size 900,550
set output dir.'/scrub.png'
set title 'seed 001: zeroing a dying guest (GB/s, higher is better)'
set style data histograms
set style fill solid 0.8 border -1
set boxwidth 0.7
set ylabel 'GB/s'
set yrange [0:*]
set xtics rotate by -25 nomirror
set grid ytics
plot dir.'/scrub.dat' using 2:xtic(1) notitle linecolor rgb '#4477aa'
