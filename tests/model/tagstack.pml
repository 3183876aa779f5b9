/*
 * tagstack.pml - the lock-free tagged stack that scrub and pinpool share
 * (libxmm/core/tagstack.h), with its ABA tag cut to TAGBITS bits.
 *
 * What it abstracts (tagstack.h at the commit that added it):
 *   head              uint64_t *head: one word, index + 1 in the low bits, the
 *                     tag above; modelled as two bytes read and compared-and-
 *                     swapped together (one atomic step = one C atomic access)
 *   link[i]           the caller's link of element i (scrub: ops->link(pfn)->next,
 *                     pinpool: page[i].next): next element's index + 1
 *   pop()             xmm_tagstack_pop: acquire load of the head; while not
 *                     empty: read the top's link (may be stale), CAS head ->
 *                     (tag + 1, link); a failed CAS reloads the head
 *   push()            xmm_tagstack_push / push_chain with first == last: relaxed
 *                     load of the head; do set_next(last, idx1(h)) while the
 *                     CAS head -> (tag + 1, first + 1) fails
 *   take_all()        xmm_tagstack_take_all: CAS head -> (tag + 1, empty)
 * Memory model: sequentially consistent. The C code's orderings (release CAS
 * in push, acquire load and CAS in pop) are what make each modelled step one
 * indivisible, ordered access; weak-memory effects are TSan's and the arm64
 * runs' business.
 *
 * Each of NPROC threads does up to NOPS operations, chosen freely: pop (into
 * the elements it holds), push of one it holds, or take_all. A ghost owner[]
 * says where every element is (0: in the stack, p: held by thread p).
 * Properties (assertions): a pop returns an element that is in the stack,
 * never one a thread holds (no page duplicated); at the end, walking the stack
 * from the head finds every element not held exactly once and nothing else
 * (no page lost, no cycle).
 *
 * With TAGBITS large enough that the tag cannot wrap within one pop's window,
 * the properties hold (spin exhausts the state space). With TAGBITS small and
 * enough operations that another thread can move the tag through all its
 * values while a pop stalls between its link read and its CAS, spin finds the
 * ABA counterexample: what the 24-bit (scrub) and 36-bit (pinpool) tags rule
 * out in practice (xmm/scrub.h: 2^24 changes within one pop's window).
 */
#ifndef N
#define N 3          /* elements */
#endif
#ifndef NPROC
#define NPROC 2
#endif
#ifndef NOPS
#define NOPS 4       /* operations per thread */
#endif
#ifndef TAGBITS
#define TAGBITS 8
#endif
#define TAGMOD (1 << TAGBITS)

byte head_i = 0;     /* top's index + 1, 0: empty */
byte head_t = 0;     /* the tag */
byte link[N];
byte owner[N];       /* ghost: 0 in the stack, p (1..NPROC) held by thread p */
byte done = 0;

/* The inlines share the calling thread's locals: hi, ht, n1, y, k, px, ok. */
inline pop(me) {
	ok = false;
	atomic { hi = head_i; ht = head_t }        /* acquire load */
	do
	:: hi == 0 -> break                        /* empty */
	:: else ->
		n1 = link[hi - 1];                      /* may be stale */
		atomic {
			if
			:: head_i == hi && head_t == ht ->
				head_i = n1; head_t = (ht + 1) % TAGMOD;
				px = hi - 1;
				assert(owner[px] == 0);         /* no element handed out twice */
				owner[px] = me;
				ok = true
			:: else -> hi = head_i; ht = head_t   /* a failed CAS reloads */
			fi
		}
		if
		:: ok -> break
		:: else -> skip
		fi
	od
}

inline push(me, x) {
	ok = false;
	atomic { hi = head_i; ht = head_t }        /* relaxed load */
	do
	:: link[x] = hi;                            /* set_next(last, idx1(h)) */
		atomic {
			if
			:: head_i == hi && head_t == ht ->
				head_i = x + 1; head_t = (ht + 1) % TAGMOD;
				owner[x] = 0;                    /* ghost: the pusher gives it up */
				ok = true
			:: else -> hi = head_i; ht = head_t
			fi
		}
		if
		:: ok -> break
		:: else -> skip
		fi
	od
}

/* take_all: the whole chain becomes the caller's; it walks it and owns every element. */
inline take_all(me) {
	ok = false;
	atomic { hi = head_i; ht = head_t }
	do
	:: hi == 0 -> break
	:: else ->
		atomic {
			if
			:: head_i == hi && head_t == ht ->
				head_i = 0; head_t = (ht + 1) % TAGMOD; ok = true
			:: else -> hi = head_i; ht = head_t
			fi
		}
		if
		:: ok ->
			y = hi; k = 0;
			do
			:: y != 0 && k < N ->
				assert(owner[y - 1] == 0);
				owner[y - 1] = me; y = link[y - 1]; k++
			:: else -> break
			od;
			assert(y == 0);                      /* the chain ends: no cycle */
			break
		:: else -> skip
		fi
	od
}

proctype thread(byte me) {
	byte ops = 0, x, hi, ht, n1, y, k, px;
	bool ok;
	do
	:: ops < NOPS ->
		ops++;
		if
		:: pop(me)
		:: /* push one element it holds */
			x = 0;
			do
			:: x < N && owner[x] != me -> x++
			:: x < N && owner[x] == me -> push(me, x); break
			:: x >= N -> break
			od
		:: take_all(me)
		fi
	:: ops >= NOPS -> break
	od;
	/* Give back whatever it still holds, then stop. */
	x = 0;
	do
	:: x < N && owner[x] == me -> push(me, x); x++
	:: x < N && owner[x] != me -> x++
	:: x >= N -> break
	od;
	done++
}

init {
	byte i, y, seen;
	/* The stack starts with every element: N-1 -> ... -> 0. */
	atomic {
		i = 0;
		do
		:: i < N -> link[i] = i; owner[i] = 0; i++   /* link[i] = (i - 1) + 1 */
		:: else -> break
		od;
		head_i = N;
		i = 1;
		do
		:: i <= NPROC -> run thread(i); i++
		:: else -> break
		od
	}
	done == NPROC;
	/* Every element is back in the stack, exactly once, and the chain ends. */
	y = head_i; seen = 0;
	do
	:: y != 0 && seen <= N -> assert(owner[y - 1] == 0); seen++; y = link[y - 1]
	:: else -> break
	od;
	assert(y == 0 && seen == N)
}
