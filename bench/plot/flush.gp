# Seed 000 (gnuplot -e "dir='report'; caption='...'" flush.gp): the filter's cost against the
# number of CPUs, and libxmm's order-0 allocation against the batched filter with the targets.
# flush.dat: cpus, then ns lo hi for batched_old libxmm_old batched_fresh libxmm_fresh
# batched_order0 libxmm_order0 (columns 2-4, 5-7, ... 17-19).
if (!exists("caption")) caption = ''
set terminal pngcairo size 1300,620 font ',10'
set output dir.'/flush.png'
set multiplot layout 1,2 title "seed 000: TLB-flush filtering with another thread flushing all the time\n{/*0.8 ".caption."}"
set logscale xy
set grid
set xlabel 'simulated CPUs (hwloc synthetic topology)'
set xrange [10:6000]
set key outside bottom center horizontal maxcols 2 font ',9' spacing 1.1
set bmargin 9
# Baselines in blues and greys, libxmm in orange and red.
set style line 1 lc rgb '#4477aa' lw 2 pt 7
set style line 2 lc rgb '#ee6677' lw 2 pt 5
set style line 3 lc rgb '#88aacc' lw 2 pt 6 dt 2
set style line 4 lc rgb '#cc3311' lw 2 pt 4 dt 2
set style line 5 lc rgb '#777777' lw 2 pt 9
set style line 6 lc rgb '#ee7733' lw 2 pt 11
set title 'cost per call (ns, log; bars: lowest and highest run)'
set ylabel 'ns per filter or allocation'
plot dir.'/flush.dat' using 1:2:3:4 with yerrorlines ls 1 title 'filter, old stamp: batched (Xen 4.17)', \
     '' using 1:5:6:7 with yerrorlines ls 2 title 'filter, old stamp: libxmm (watermark)', \
     '' using 1:8:9:10 with yerrorlines ls 3 title 'filter, fresh stamp: batched', \
     '' using 1:11:12:13 with yerrorlines ls 4 title 'filter, fresh stamp: libxmm (scan)', \
     '' using 1:14:15:16 with yerrorlines ls 5 title 'order-0 allocation: batched', \
     '' using 1:17:18:19 with yerrorlines ls 6 title 'order-0 allocation: libxmm'
set title 'order-0 allocation: how many times faster than batched (log)'
set ylabel 'batched / libxmm'
set yrange [1:*]
$targets << EOD
64 10
4096 100
EOD
plot dir.'/flush.dat' using 1:($14/$17):($15/$19):($16/$18) with yerrorlines ls 6 title 'libxmm vs batched (range: worst and best pairing)', \
     $targets using 1:2 with points pt 2 ps 3 lw 3 lc rgb '#000000' title 'targets: >=10x at 64 CPUs, >=100x at 4096'
unset multiplot
