// SPDX-License-Identifier: MIT
// The Google Benchmark shim: the only C++ in libxmm. Registers C benchmark
// functions, runs them, and keeps their results for the C report code.
#include "shim.h"

#include <benchmark/benchmark.h>

#include <cstring>
#include <map>
#include <string>
#include <vector>

struct xmm_bench_state {
	benchmark::State *st;
};

namespace {

struct result {
	double ns = 0;
	bool have_median = false;
	std::map<std::string, double> counters;
};

std::map<std::string, result> &results()
{
	static std::map<std::string, result> r;
	return r;
}

int errors = 0;

double to_ns(double v, benchmark::TimeUnit u)
{
	return v / benchmark::GetTimeUnitMultiplier(u) * 1e9;
}

// Prints as usual, and keeps each run's time and counters by benchmark name.
class capture_reporter : public benchmark::ConsoleReporter {
      public:
	void ReportRuns(const std::vector<Run> &runs) override
	{
		for (const Run &run : runs) {
			if (run.error_occurred) {
				errors++;
				continue;
			}
			bool median = run.run_type == Run::RT_Aggregate;
			if (median && run.aggregate_name != "median")
				continue;
			result &r = results()[run.run_name.function_name];
			if (r.have_median && !median)
				continue;
			r.ns = to_ns(run.GetAdjustedRealTime(), run.time_unit);
			r.have_median = median;
			for (const auto &c : run.counters)
				r.counters[c.first] = c.second.value;
		}
		ConsoleReporter::ReportRuns(runs);
	}
};

benchmark::TimeUnit unit_of(xmm_bench_unit u)
{
	switch (u) {
	case XMM_BENCH_US:
		return benchmark::kMicrosecond;
	case XMM_BENCH_MS:
		return benchmark::kMillisecond;
	default:
		return benchmark::kNanosecond;
	}
}

double default_min_time = 0;

} // namespace

extern "C" {

void xmm_bench_add(const struct xmm_bench *b)
{
	xmm_bench_fn fn = b->fn;
	void *arg = b->arg;
	auto *bm = benchmark::RegisterBenchmark(b->name, [fn, arg](benchmark::State &st) {
		xmm_bench_state s{ &st };
		fn(&s, arg);
	});
	bm->Unit(unit_of(b->unit));
	// Wall-clock time, or the benchmark's own measure; Google Benchmark takes one, not both.
	if (b->manual_time)
		bm->UseManualTime();
	else
		bm->UseRealTime();
	if (b->threads > 1)
		bm->Threads(b->threads);
	if (b->repetitions > 0)
		bm->Repetitions(b->repetitions);
	if (b->iterations > 0)
		bm->Iterations(b->iterations);
	else if (b->min_time > 0)
		bm->MinTime(b->min_time);
	else if (default_min_time > 0)
		bm->MinTime(default_min_time);
}

bool xmm_bench_running(struct xmm_bench_state *s, uint64_t batch)
{
	return s->st->KeepRunningBatch(static_cast<benchmark::IterationCount>(batch));
}

uint64_t xmm_bench_iterations(struct xmm_bench_state *s)
{
	return static_cast<uint64_t>(s->st->iterations());
}

int xmm_bench_thread(struct xmm_bench_state *s)
{
	return s->st->thread_index();
}

int xmm_bench_threads(struct xmm_bench_state *s)
{
	return s->st->threads();
}

void xmm_bench_pause(struct xmm_bench_state *s)
{
	s->st->PauseTiming();
}

void xmm_bench_resume(struct xmm_bench_state *s)
{
	s->st->ResumeTiming();
}

void xmm_bench_manual_time(struct xmm_bench_state *s, double seconds)
{
	s->st->SetIterationTime(seconds);
}

void xmm_bench_items(struct xmm_bench_state *s, int64_t items)
{
	s->st->SetItemsProcessed(items);
}

void xmm_bench_bytes(struct xmm_bench_state *s, int64_t bytes)
{
	s->st->SetBytesProcessed(bytes);
}

void xmm_bench_error(struct xmm_bench_state *s, const char *msg)
{
	s->st->SkipWithError(msg);
}

void xmm_bench_counter(struct xmm_bench_state *s, const char *name, double value, unsigned flags)
{
	int f = benchmark::Counter::kDefaults;
	if (flags & XMM_BENCH_RATE)
		f |= benchmark::Counter::kIsRate;
	if (flags & XMM_BENCH_PER_ITER)
		f |= benchmark::Counter::kAvgIterations;
	if (flags & XMM_BENCH_AVG_THREADS)
		f |= benchmark::Counter::kAvgThreads;
	s->st->counters[name] = benchmark::Counter(value, static_cast<benchmark::Counter::Flags>(f));
}

void xmm_bench_keep(const void *p)
{
	benchmark::DoNotOptimize(p);
	benchmark::ClobberMemory();
}

int xmm_bench_run(int *argc, char **argv, const char *json)
{
	std::vector<char *> args(argv, argv + 1);
	/* The noise-control policy (common.h): samples interleaved in random order. Before
	 * the caller's flags, so that one given on the command line wins. */
	std::string interleave = "--benchmark_enable_random_interleaving=true";
	args.push_back(interleave.data());
	args.insert(args.end(), argv + 1, argv + *argc);
	std::string out = json ? std::string("--benchmark_out=") + json : std::string();
	std::string fmt = "--benchmark_out_format=json";
	if (json) {
		args.push_back(out.data());
		args.push_back(fmt.data());
	}
	args.push_back(nullptr);
	int n = static_cast<int>(args.size()) - 1;
	benchmark::Initialize(&n, args.data());
	if (benchmark::ReportUnrecognizedArguments(n, args.data()))
		return 2;
	capture_reporter rep;
	benchmark::RunSpecifiedBenchmarks(&rep);
	benchmark::Shutdown();
	return errors ? 1 : 0;
}

void xmm_bench_set_default_min_time(double seconds)
{
	default_min_time = seconds;
}

bool xmm_bench_ns(const char *name, double *ns)
{
	auto it = results().find(name);
	if (it == results().end())
		return false;
	*ns = it->second.ns;
	return true;
}

bool xmm_bench_value(const char *name, const char *counter, double *v)
{
	auto it = results().find(name);
	if (it == results().end())
		return false;
	auto c = it->second.counters.find(counter);
	if (c == it->second.counters.end())
		return false;
	*v = c->second;
	return true;
}

} // extern "C"
