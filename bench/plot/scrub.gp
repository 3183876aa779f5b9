# Seed 001 (gnuplot -e "dir='report'; caption='...'" scrub.gp): zeroing bandwidth of a dying
# guest's memory against what the machine can do. scrub.dat: label kind GB/s lo hi.
if (!exists("caption")) caption = ''
set terminal pngcairo size 1000,560 font ',10'
set output dir.'/scrub.png'
set title "seed 001: zeroing a dying guest, GB/s (higher is better; bars: lowest and highest run)\n{/*0.8 ".caption."}"
set style fill solid 0.85 border -1
set boxwidth 0.7
set ylabel 'GB/s'
set yrange [0:*]
set xrange [-0.6:6.6]
set xtics rotate by -20 nomirror
set grid ytics
set key top right
colour(k) = k == 2 ? 0xee7733 : k == 1 ? 0x4477aa : 0xaaaaaa
# The targets: all clean at >= 85% of the NT-store bandwidth of as many threads.
stats dir.'/scrub.dat' every ::0::0 using 3 nooutput
nt1 = STATS_max
stats dir.'/scrub.dat' every ::3::3 using 3 nooutput
nt2 = STATS_max
set arrow from -0.5, 0.85 * nt1 to 2.5, 0.85 * nt1 nohead dt 2 lw 2 lc rgb '#000000'
set arrow from 2.5, 0.85 * nt2 to 4.5, 0.85 * nt2 nohead dt 2 lw 2 lc rgb '#000000'
plot dir.'/scrub.dat' using 0:3:(colour($2)):xtic(1) with boxes lc rgb variable notitle, \
     '' using 0:3:4:5 with yerrorbars lc rgb '#000000' pt 0 notitle, \
     NaN with boxes lc rgb '#aaaaaa' title 'what the machine can do', \
     NaN with boxes lc rgb '#4477aa' title 'baselines', \
     NaN with boxes lc rgb '#ee7733' title 'libxmm', \
     NaN with lines dt 2 lw 2 lc rgb '#000000' title 'target: 85% of NT stores, as many threads'
