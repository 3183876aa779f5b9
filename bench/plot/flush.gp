# Cost of the flush filter against the number of CPUs (gnuplot -e "dir='report'" flush.gp)
set terminal pngcairo size 900,600
set output dir.'/flush.png'
set title 'seed 000: TLB-flush filter cost, another thread flushing all the time'
set xlabel 'CPUs'
set ylabel 'ns per call (log)'
set logscale xy
set key top left
set grid
plot dir.'/flush.dat' using 1:2 with linespoints title 'batched filter (Xen 4.17), old stamp', \
     ''               using 1:3 with linespoints title 'libxmm filter, old stamp (watermark)', \
     ''               using 1:4 with linespoints title 'batched filter, fresh stamp', \
     ''               using 1:5 with linespoints title 'libxmm filter, fresh stamp (scan)', \
     ''               using 1:6 with linespoints title 'order-0 allocation, batched', \
     ''               using 1:7 with linespoints title 'order-0 allocation, libxmm'
