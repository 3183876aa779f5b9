# ns per get by access pattern and structure (gnuplot -e "dir='report'" p2m.gp)
set terminal pngcairo size 900,600
set output dir.'/p2m.png'
set title 'seed 004: p2m lookups by access pattern (ns per get, lower is better; scenario in p2m.dat)'
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set ylabel 'ns per get'
set logscale y
set grid ytics
set key top left
plot dir.'/p2m.dat' using 2:xtic(1) title 'dense array (2 GiB)', \
     ''             using 3 title '3-level tree (Linux <3.19)', \
     ''             using 4 title 'libxmm linear', \
     ''             using 5 title 'libxmm portable'
