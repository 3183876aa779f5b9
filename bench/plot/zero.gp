# Seed 003 (gnuplot -e "dir='report'; caption='...'" zero.gp): the zero-page scan of every
# kernel and hint against the reads that bound it, and the PoD sweep against Xen's.
# zero.dat index 0: label GB/s lo hi (scan); index 1: label GB/s lo hi (sweep).
if (!exists("caption")) caption = ''
set terminal pngcairo size 1500,700 font ',10'
set output dir.'/zero.png'
set multiplot layout 1,2 title "seed 003: zero detection on one core (GB/s, higher is better; medians over rounds, bars: lowest and highest)\n{/*0.8 ".caption."}"
set style data histograms
set style fill solid 0.85 border -1
set boxwidth 0.7
set yrange [0:*]
set grid ytics
set xtics rotate by -40 font ',9'
set key outside bottom center horizontal maxcols 1 font ',9'
set offsets 0, 0, graph 0.1, 0
isbase(s) = strstrt(s, 'stream') > 0 || strstrt(s, 'peer') > 0 || strstrt(s, 'scalar') > 0 || strstrt(s, 'Xen') > 0
colour(s) = isbase(s) ? 0x4477aa : 0xee7733
# The limit: the fastest of the streaming reads and the peer (the scalar loop is context).
stats dir.'/zero.dat' index 0 using ((strstrt(strcol(1), 'stream') > 0 || strstrt(strcol(1), 'peer') > 0) ? $2 : 1/0) nooutput
limit = STATS_max
set arrow 1 from graph 0, first 0.95 * limit to graph 1, first 0.95 * limit nohead dt 2 lw 2 lc rgb '#000000' front
set title 'scan of 1 GiB of zero pages: every kernel/hint (libxmm) and the reads that bound it'
plot dir.'/zero.dat' index 0 using 0:2:(colour(strcol(1))):xtic(1) with boxes lc rgb variable notitle, \
     '' index 0 using 0:2:3:4 with yerrorbars lc rgb '#000000' pt 0 notitle, \
     NaN with boxes lc rgb '#4477aa' title 'baselines: streaming reads, the QEMU-way peer, scalar loop', \
     NaN with boxes lc rgb '#ee7733' title 'libxmm kernels (set/hint[:distance])', \
     NaN with lines dt 2 lw 2 lc rgb '#000000' title 'target: 95% of the fastest read or peer'
unset arrow 1
stats dir.'/zero.dat' index 1 every ::0::0 using 2 nooutput
xen = STATS_max
set arrow 2 from graph 0, first 3 * xen to graph 1, first 3 * xen nohead dt 2 lw 2 lc rgb '#000000' front
set title 'seed-003 sweep of a guest image'
plot dir.'/zero.dat' index 1 using 0:2:(colour(strcol(1))):xtic(1) with boxes lc rgb variable notitle, \
     '' index 1 using 0:2:3:4 with yerrorbars lc rgb '#000000' pt 0 notitle, \
     NaN with boxes lc rgb '#4477aa' title 'Xen-style PoD sweep', \
     NaN with boxes lc rgb '#ee7733' title 'libxmm', \
     NaN with lines dt 2 lw 2 lc rgb '#000000' title 'target: 3x the Xen-style sweep'
unset multiplot
