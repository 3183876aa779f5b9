# Seed 002 (gnuplot -e "dir='report'; caption='...'" pinpool.gp): an alloc/free pair of a
# hypercall buffer on 1 thread. pinpool.dat: pages, then ns lo hi for libxmm mlock mmap
# mutex-cache (cols 2-13), the same with fill (14-25), then 2 threads: libxmm, mutex-cache.
if (!exists("caption")) caption = ''
set terminal pngcairo size 1300,600 font ',10'
set output dir.'/pinpool.png'
set multiplot layout 1,2 title "seed 002: hypercall buffers, alloc/free pair on 1 thread (ns, log; lower is better;\nbars: lowest and highest run; dashed: 1/100 of per-call locking, the 1-page target)\n{/*0.8 ".caption."}"
set style data histograms
set style histogram errorbars gap 1 lw 1
set style fill solid 0.85 border -1
set logscale y
set yrange [*:*]
set grid ytics
set xlabel 'buffer size (pages)'
set ylabel 'ns per pair (log)'
set key outside bottom center horizontal maxcols 2 font ',9'
stats dir.'/pinpool.dat' every ::0::0 using 5 nooutput
mlock1 = STATS_max
set arrow 1 from -0.5, mlock1 / 100 to 0.5, mlock1 / 100 nohead dt 2 lw 2 lc rgb '#000000' front
set title 'management only'
plot dir.'/pinpool.dat' using 2:3:4:xtic(1) lc rgb '#ee7733' title 'libxmm pool', \
     '' using 5:6:7 lc rgb '#4477aa' title 'mlock/munlock per call', \
     '' using 8:9:10 lc rgb '#88aacc' title 'mmap(MAP\_LOCKED)/munmap per call', \
     '' using 11:12:13 lc rgb '#777777' title '4-entry mutex cache (libxencall)'
unset arrow 1
set title 'with every byte written (fill)'
plot dir.'/pinpool.dat' using 14:15:16:xtic(1) lc rgb '#ee7733' title 'libxmm pool', \
     '' using 17:18:19 lc rgb '#4477aa' title 'mlock/munlock per call', \
     '' using 20:21:22 lc rgb '#88aacc' title 'mmap(MAP\_LOCKED)/munmap per call', \
     '' using 23:24:25 lc rgb '#777777' title '4-entry mutex cache (libxencall)'
unset multiplot
