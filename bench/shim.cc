// SPDX-License-Identifier: MIT
// The Google Benchmark shim: the only C++ in libxmm. Registers C benchmark
// functions, runs them, and keeps their results for the C report code.
#include "shim.h"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include <unistd.h>

struct xmm_bench_state {
	benchmark::State *st;
};

namespace {

struct result {
	double ns = 0;
	bool have_median = false;
	std::map<std::string, double> counters;
	// Every repetition's value (ns, and each counter): the spread of the median.
	std::vector<double> ns_runs;
	std::map<std::string, std::vector<double>> counter_runs;
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

long total_runs = 0; // runs registered: one per repetition
const char *progress_name = "bench";

// Prints as usual (in colour only when asked or on a terminal), keeps each run's
// time and counters by benchmark name, and tells stderr how far the run is.
class capture_reporter : public benchmark::ConsoleReporter {
      public:
	explicit capture_reporter(OutputOptions o) : ConsoleReporter(o) {}

	void ReportRuns(const std::vector<Run> &runs) override
	{
		for (const Run &run : runs) {
			if (run.run_type != Run::RT_Aggregate)
				progress(run.run_name.function_name);
			if (run.error_occurred) {
				errors++;
				continue;
			}
			bool median = run.run_type == Run::RT_Aggregate;
			if (median && run.aggregate_name != "median")
				continue;
			result &r = results()[run.run_name.function_name];
			if (!median) {
				r.ns_runs.push_back(to_ns(run.GetAdjustedRealTime(), run.time_unit));
				for (const auto &c : run.counters)
					r.counter_runs[c.first].push_back(c.second.value);
			}
			if (r.have_median && !median)
				continue;
			r.ns = to_ns(run.GetAdjustedRealTime(), run.time_unit);
			r.have_median = median;
			for (const auto &c : run.counters)
				r.counters[c.first] = c.second.value;
		}
		ConsoleReporter::ReportRuns(runs);
	}

      private:
	using clock = std::chrono::steady_clock;
	clock::time_point start = clock::now(), last = start;
	long done = 0;

	// At most one line every 5 s: which benchmark, how far, about how long is left.
	void progress(const std::string &name)
	{
		auto now = clock::now();
		double el = std::chrono::duration<double>(now - start).count();

		done++;
		if (std::chrono::duration<double>(now - last).count() < 5 || total_runs <= 0)
			return;
		last = now;
		double left = done < total_runs ? el / done * (total_runs - done) : 0;
		std::fprintf(stderr, "[%s] %ld/%ld runs, %.0f s elapsed, about %.0f s left (%s)\n",
			     progress_name, done, total_runs, el, left, name.c_str());
	}
};

// --benchmark_color: Google Benchmark applies it to its own reporter, not to one
// passed in, so the shim reads it too ("auto", the default: colour on a terminal).
bool want_color(const std::vector<char *> &args)
{
	std::string v = "auto";

	for (char *a : args)
		if (a && std::strncmp(a, "--benchmark_color=", 18) == 0)
			v = a + 18;
	if (v == "auto")
		return isatty(STDOUT_FILENO);
	return v == "true" || v == "yes" || v == "1";
}

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
	total_runs += b->repetitions > 0 ? b->repetitions : 1;
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
	const char *slash = std::strrchr(argv[0], '/');
	progress_name = slash ? slash + 1 : argv[0];
	capture_reporter rep(want_color(args) ? benchmark::ConsoleReporter::OO_Defaults
					      : benchmark::ConsoleReporter::OO_Tabular);
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

bool xmm_bench_spread(const char *name, const char *counter, double *lo, double *hi)
{
	auto it = results().find(name);
	if (it == results().end())
		return false;
	const std::vector<double> *v = &it->second.ns_runs;
	if (counter) {
		auto c = it->second.counter_runs.find(counter);
		if (c == it->second.counter_runs.end())
			return false;
		v = &c->second;
	}
	if (v->size() < 2)
		return false;
	*lo = *std::min_element(v->begin(), v->end());
	*hi = *std::max_element(v->begin(), v->end());
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
