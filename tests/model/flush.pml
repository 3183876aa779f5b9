/*
 * flush.pml - the flush clock's watermark protocol (libxmm/core/flush.c).
 *
 * What it abstracts (flush.c at the commit that added it):
 *   now               clk->now: xmm_flush_stamp reads it (after a full fence),
 *                     xmm_flush_begin increments it (acq_rel fetch-add)
 *   epoch[c]          clk->epoch[slot_of_cpu[c]]: raised by xmm_flush_end
 *                     (epoch_raise: CAS to the max, release)
 *   gwm[g], allwm     clk->group_wm[g], clk->all_wm: raised only by filters
 *                     (wm_raise: CAS to the max of what a scan saw, release)
 *   filter()          xmm_flush_filter + filter_groups: the all_wm fast path,
 *                     then per group the watermark test, else a scan of the
 *                     group's epochs (one acquire load each) that drops CPUs
 *                     whose epoch is past the stamp and raises gwm to the
 *                     scan's minimum, then all_wm to the minimum over groups
 * Each modelled step is one C atomic access; the model is sequentially
 * consistent (the C code's full fence in stamp, acq_rel begin and release/
 * acquire epochs and watermarks are what make that abstraction sound on
 * x86 and Arm alike; TSan and the arm64 runs check the orderings themselves).
 *
 * Ghost state: a page is unmapped twice (stamps s[0] <= s[1]); at each stamp
 * every CPU may hold a stale TLB entry for it (needs[k][c]). A CPU's flush
 * removes the entries of every page whose stamp was taken before its begin.
 * Properties (assertions):
 *   - safety: a filter never drops a CPU that still needs a flush for its stamp;
 *   - I2: gwm[g] <= min epoch in g, allwm <= min epoch overall, checked in
 *     the step of every raise (epochs only grow, so it holds in between);
 *   - precision: once every flush has ended, a filter drops exactly the CPUs
 *     that completed a flush begun after the stamp.
 * Configuration: NCPU CPUs in two groups (0..G0-1, G0..NCPU-1), each CPU
 * flushing NFL times; two filter threads, one per stamp, each filtering
 * NFILT times concurrently with the flushes and with each other.
 */
#ifndef NCPU
#define NCPU 3
#endif
#ifndef G0
#define G0 2          /* group 0: CPUs 0..G0-1; group 1: G0..NCPU-1 */
#endif
#ifndef NFL
#define NFL 1
#endif
#ifndef NFILT
#define NFILT 1
#endif

/* The drop test of the scan; MUTANT=1 plants an off-by-one the model must catch. */
#if MUTANT
#define DROPS(e, st) (e >= st)
#else
#define DROPS(e, st) (e > st)
#endif

byte now = 1;
byte epoch[NCPU];
byte gwm[2];
byte allwm = 1;
byte s[2];
bool taken[2];
bool needs[2 * NCPU];  /* needs[k * NCPU + c] */
byte flushers = 0, filters = 0;


/* I2 for group g right after a raise (epochs only grow, so it holds until the next raise). */
inline check_i2(g) {
	c = (g == 0 -> 0 : G0);
	do
	:: c < (g == 0 -> G0 : NCPU) -> assert(gwm[g] <= epoch[c] && allwm <= epoch[c]); c++
	:: else -> break
	od
}

proctype cpu(byte c) {
	byte t, i = 0;
	bool covered[2];
	do
	:: i < NFL ->
		atomic { now++; t = now; covered[0] = taken[0]; covered[1] = taken[1] }  /* begin */
		/* the TLB flush: entries of pages unmapped before the begin go */
		atomic {
			if :: covered[0] -> needs[c] = false :: else fi;
			if :: covered[1] -> needs[NCPU + c] = false :: else fi
		}
		/* end: epoch_raise, a CAS to the max */
		atomic { if :: t > epoch[c] -> epoch[c] = t :: else fi; t = 0; i++ }
	:: else -> break
	od;
	flushers++
}

/* The page is unmapped, then stamped (after a full fence); every CPU may hold an entry. */
proctype unmap() {
	byte k = 0, c;
	do
	:: k < 2 ->
		atomic {
			s[k] = now; taken[k] = true;
			c = 0;
			do
			:: c < NCPU -> needs[k * NCPU + c] = true; c++
			:: else -> break
			od
		}
		k++
	:: else -> break
	od
}

/*
 * One filter of stamp st with every CPU in the mask; kept[c] says what it
 * left. Asserts safety as it drops.
 */
inline filter(k, st) {
	d_step { c = 0; do :: c < NCPU -> kept[c] = true; c++ :: else -> break od; c = 0 }
	aw = allwm;                                         /* acquire */
	if
	:: st < aw ->
		atomic {
			c = 0;
			do :: c < NCPU -> assert(!needs[k * NCPU + c]); kept[c] = false; c++ :: else -> break od;
			c = 0
		}
	:: else ->
		allmin = 255; g = 0;
		do
		:: g < 2 ->
			gw = gwm[g];                                /* acquire */
			lo = (g == 0 -> 0 : G0); hi = (g == 0 -> G0 : NCPU);
			if
			:: st < gw ->
				atomic {
					c = lo;
					do :: c < hi -> assert(!needs[k * NCPU + c]); kept[c] = false; c++ :: else -> break od;
					gmin = gw; c = 0
				}
			:: else ->
				gmin = 255; c = lo;
				do
				:: c < hi ->
					e = epoch[c];                       /* acquire */
					atomic {
						if :: e < gmin -> gmin = e :: else fi;
						if :: DROPS(e, st) -> assert(!needs[k * NCPU + c]); kept[c] = false :: else fi;
						c++; e = 0
					}
				:: else -> break
				od;
				atomic { if :: gmin > gwm[g] -> gwm[g] = gmin :: else fi; check_i2(g); c = 0 }   /* wm_raise */
			fi;
			atomic { if :: gmin < allmin -> allmin = gmin :: else fi; g++; gw = 0; gmin = 0 }
		:: else -> break
		od;
		atomic {
			if :: allmin != 255 && allmin > allwm -> allwm = allmin :: else fi;
			check_i2(0); check_i2(1); c = 0; g = 0; allmin = 0
		}
	fi;
	aw = 0
}

proctype filterer(byte k) {
	byte c, g, lo, hi, aw, gw, gmin, allmin, e, st, i = 0;
	bool kept[NCPU];
	taken[k];
	st = s[k];
	do
	:: i < NFILT -> filter(k, st); i++
	:: else -> break
	od;
	/* Precision, once every flush has ended. */
	flushers == NCPU;
	filter(k, st);
	c = 0;
	do
	:: c < NCPU -> assert(kept[c] == (epoch[c] <= st)); c++
	:: else -> break
	od;
	filters++
}

init {
	byte c;
	atomic {
		c = 0;
		do :: c < NCPU -> epoch[c] = 1; c++ :: else -> break od;
		gwm[0] = 1; gwm[1] = 1;
		run unmap();
		c = 0;
		do :: c < NCPU -> run cpu(c); c++ :: else -> break od;
		run filterer(0);
		run filterer(1)
	}
}
