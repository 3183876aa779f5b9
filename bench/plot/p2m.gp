# Seed 004 (gnuplot -e "dir='report'; caption='...'" p2m.gp): ns per get by access pattern and
# structure. p2m.dat: label, then ns lo hi for dense tree linear portable.
if (!exists("caption")) caption = ''
set terminal pngcairo size 1000,600 font ',10'
set output dir.'/p2m.png'
guest = system("sed -n '1s/^# ns per get; //p' '".dir."/p2m.dat'")
set title "seed 004: p2m lookups, guest of ".guest." (ns per get, log; lower is better;\nbars: lowest and highest run)\n{/*0.8 ".caption."}"
set bmargin 5
set style data histogram
set style histogram errorbars gap 1 lw 1
set style fill solid 0.85 border -1
set ylabel 'ns per get (log)'
set logscale y
set yrange [0.5:*]
set grid ytics
set key top left
# The targets, over their clusters: libxmm linear within 1.15x of the dense array for
# independent gets, within 1.05x for dependent ones.
stats dir.'/p2m.dat' every ::0::0 using 2 nooutput
dense0 = STATS_max
stats dir.'/p2m.dat' every ::1::1 using 2 nooutput
dense1 = STATS_max
set arrow 1 from -0.45, 1.15 * dense0 to 0.45, 1.15 * dense0 nohead dt 2 lw 2 lc rgb '#000000' front
set arrow 2 from 0.55, 1.05 * dense1 to 1.45, 1.05 * dense1 nohead dt 2 lw 2 lc rgb '#000000' front
plot dir.'/p2m.dat' using 2:3:4:xtic(1) lc rgb '#aaaaaa' title 'dense array (the limit)', \
     ''             using 5:6:7 lc rgb '#4477aa' title '3-level tree (Linux before 3.19)', \
     ''             using 8:9:10 lc rgb '#ee7733' title 'libxmm, linear backend', \
     ''             using 11:12:13 lc rgb '#ffbb66' title 'libxmm, portable backend', \
     NaN with lines dt 2 lw 2 lc rgb '#000000' title 'targets: linear within 1.15x / 1.05x of dense'
