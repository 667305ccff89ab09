import Foundation
import ReferralEvents

// referral-bench: the benchmarks of BENCHMARKS.md, run in release mode:
//
//   swift build -c release --product referral-bench
//   .build/release/referral-bench <workload> [--events N] [--runs R] [--store DIR] [--work DIR]
//
// Data comes from the deterministic demo generator; demo stores are made once in the work
// directory (default /tmp/referral-bench) and reused.

let usage = """
    usage: referral-bench <workload> [options]

    workloads:
      demo        generate a demo store (--events N, default 1M; --durable; --seal; --store DIR --keep)
      single      1. durable single appends: p50/p99 beside the raw fsync'd LMDB commit (--events 1000)
      batch       2. batched appends, 1,000 events a transaction: events/s (--events 100k, --batch 1000, --nosync)
      concurrent  3. 16 tasks appending single events durably with group commit (--events 20k, --tasks 16, --plain)
      scan        raw LMDB cursor scan vs EventStore.replay (--events 1M or --store DIR)
      rebuild     4. full rebuild of all projections beside the raw scan (--events 1M or --store DIR;
                  --low-memory releases the log's pages during the replay)
      catchup     5. catch-up after one new event; caseload and stats query latency (--events 1M)
      scaling     6. rebuild and scan at 100k, 1M and 10M events (--sizes 100k,1M,10M)
      all         the short default of each workload (1–5)
      machine     print what the figures are measured on

    options: --runs R   repeat and report medians
             --after N  (single, batch, concurrent) append to a store already holding a demo
                        log's first N events (e.g. 1M), the timed events being the ones after
             --work DIR where demo stores and scratch stores live (default /tmp/referral-bench)
    """

let args = CommandLine.arguments.dropFirst()
guard let workload = args.first, workload != "--help", workload != "-h" else {
    print(usage)
    exit(args.isEmpty ? 2 : 0)
}

do {
    let o = try Options(args.dropFirst())
    let work = o.string("work", "/tmp/referral-bench")
    try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
    print(machineDescription())
    switch workload {
    case "machine": break
    case "demo": try ScanBench.demo(o, work: work)
    case "single": try AppendBench.single(o, work: work)
    case "batch": try AppendBench.batch(o, work: work)
    case "concurrent": try await AppendBench.concurrent(o, work: work)
    case "scan": try ScanBench.scan(o, work: work)
    case "rebuild": try ProjectionBench.rebuild(o, work: work)
    case "catchup": try ProjectionBench.catchUp(o, work: work)
    case "scaling": try ProjectionBench.scaling(o, work: work)
    case "all":
        try AppendBench.single(o, work: work)
        try AppendBench.batch(o, work: work)
        try await AppendBench.concurrent(o, work: work)
        try ScanBench.scan(o, work: work)
        try ProjectionBench.rebuild(o, work: work)
        try ProjectionBench.catchUp(o, work: work)
    default:
        print("unknown workload '\(workload)'\n\n\(usage)")
        exit(2)
    }
} catch {
    FileHandle.standardError.write(Data("referral-bench: \(error)\n".utf8))
    exit(1)
}
