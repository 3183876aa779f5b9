# Cost of an alloc/free pair of a hypercall buffer, 1 thread (gnuplot -e "dir='report'" pinpool.gp)
set terminal pngcairo size 1200,550
set output dir.'/pinpool.png'
set multiplot layout 1,2 title 'seed 002: hypercall buffers, alloc/free pair on 1 thread'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set logscale y
set yrange [1:1e8]
set grid ytics
set xlabel 'buffer size (pages)'
set ylabel 'ns per pair (log)'
set key top left font ',9'
set title 'management only'
plot dir.'/pinpool.dat' using 2:xtic(1) title 'libxmm pool', \
     '' using 3 title 'mlock/munlock per call', \
     '' using 4 title 'mmap(MAP\_LOCKED)/munmap per call', \
     '' using 5 title '4-entry mutex cache (libxencall)'
set title 'with every byte written (fill)'
plot dir.'/pinpool.dat' using 6:xtic(1) title 'libxmm pool', \
     '' using 7 title 'mlock/munlock per call', \
     '' using 8 title 'mmap(MAP\_LOCKED)/munmap per call', \
     '' using 9 title '4-entry mutex cache (libxencall)'
unset multiplot
