# Seed 001's headline (gnuplot -e "dir='report'; caption='...'" scrub_destroy.gp): how long the
# destroy of the guest takes to return. scrub_destroy.dat: label kind seconds lo hi.
if (!exists("caption")) caption = ''
set terminal pngcairo size 900,520 font ',10'
set output dir.'/scrub_destroy.png'
set title "seed 001: the destroy returns (seconds, log; lower is better)\n{/*0.8 ".caption."}"
set style fill solid 0.85 border -1
set boxwidth 0.6
set logscale y
set format y '10^{%L}'
set xrange [-0.6:3.6]
set xtics rotate by -12 nomirror
set ylabel 'seconds until the destroy returns (log)'
set grid ytics
set key top right
colour(k) = k == 2 ? 0xee7733 : 0x4477aa
stats dir.'/scrub_destroy.dat' every ::0::0 using 3 nooutput
sync = STATS_max
set arrow from -0.5, sync / 1000 to 3.5, sync / 1000 nohead dt 2 lw 2 lc rgb '#000000'
plot dir.'/scrub_destroy.dat' using 0:3:(colour($2)):xtic(1) with boxes lc rgb variable notitle, \
     '' using 0:3:4:5 with yerrorbars lc rgb '#000000' pt 0 notitle, \
     '' using 0:3:(sprintf("%.3g s (%.0fx)", $3, sync / $3)) with labels offset 0,1 font ',9' notitle, \
     NaN with boxes lc rgb '#4477aa' title 'baselines', \
     NaN with boxes lc rgb '#ee7733' title 'libxmm', \
     NaN with lines dt 2 lw 2 lc rgb '#000000' title 'target: 1000x sooner than the seed'
