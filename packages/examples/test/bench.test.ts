import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { mul } from "@tapegrad/autograd";
import { beforeAll, describe, expect, it } from "vitest";
import { MATMUL_VARIANTS } from "../src/bench/implementation.js";
import {
  LENET_CHECK_STEPS,
  LENET_FLOAT32_TOLERANCE,
  lenetCheck,
  makeLenetProblem,
  tapegradLenet,
} from "../src/bench/lenet.js";
import { tfjsLenet } from "../src/bench/lenet-tfjs.js";
import { makeProblem, SIZES } from "../src/bench/problem.js";
import { formatRatio } from "../src/bench/report.js";
import { comparePaths, sixEquationGrads } from "../src/bench/tapegrad.js";
import { initTfjs } from "../src/bench/tfjs.js";
import { measureInterleaved, median, type TimingPlan } from "../src/bench/timing.js";
import { type BenchResult, PATH_TOLERANCE, runBench } from "../src/bench.js";

const positiveFinite = (x: unknown): boolean => typeof x === "number" && Number.isFinite(x) && x > 0;

describe("runBench({ quick: true })", () => {
  const lines: string[] = [];
  let result: BenchResult;
  let outFile: string;

  beforeAll(async () => {
    outFile = join(mkdtempSync(join(tmpdir(), "tapegrad-bench-")), "bench-results.json");
    result = await runBench({ quick: true, outFile, bar: false, log: (l) => lines.push(l) });
  }, 600_000);

  it("records the machine", () => {
    expect(result.quick).toBe(true);
    expect(result.machine.cpu.length).toBeGreaterThan(0);
    expect(result.machine.cores).toBeGreaterThanOrEqual(1);
    expect(result.machine.node).toBe(process.version);
    expect(Number.isNaN(Date.parse(result.machine.date))).toBe(false);
  });

  it("lists the five implementations; tapegrad and both tfjs backends run here", () => {
    expect(result.implementations.map((i) => i.id)).toEqual([
      "tapegrad-autograd",
      "tapegrad-six-eq",
      "tfjs-cpu",
      "tfjs-wasm",
      "jax-js-wasm",
    ]);
    // tapegrad always runs; TensorFlow.js is a devDependency, so its backends must load here too
    for (const id of ["tapegrad-autograd", "tapegrad-six-eq", "tfjs-cpu", "tfjs-wasm"]) {
      expect(result.implementations.find((i) => i.id === id)?.status).toBe("ok");
    }
    for (const i of result.implementations) expect(i.status === "ok" || i.status.length > 10).toBe(true);
  });

  it("passes its correctness checks before timing", () => {
    expect(result.checks.paths.ok).toBe(true);
    expect(result.checks.paths.max).toBeLessThan(PATH_TOLERANCE);
    for (const i of result.implementations.filter((x) => x.status === "ok")) {
      const check = result.checks.training[i.id]!;
      expect(check.ok).toBe(true);
      expect(check.costAfter).toBeLessThan(check.costBefore);
    }
    expect(
      lines.some((l) => l.startsWith("check: tapegrad autograd vs six equations") && l.endsWith("✓")),
    ).toBe(true);
  });

  it("times S and M (quick) for every runnable implementation: positive, finite ms", () => {
    expect(result.steps.map((s) => s.size)).toEqual(["S", "M"]);
    for (const s of result.steps) {
      for (const i of result.implementations) {
        if (i.status === "ok") {
          expect(positiveFinite(s.ms[i.id]), `${s.size} ${i.id}`).toBe(true);
          const m = s.measurements[i.id]!;
          expect(m.samplesMs.length).toBeGreaterThanOrEqual(1);
          expect(m.samplesMs.length).toBeLessThanOrEqual(2);
          expect(m.samplesMs.every(positiveFinite)).toBe(true);
          expect(m.medianMs).toBe(median(m.samplesMs));
        } else {
          expect(s.ms[i.id]).toBeNull();
        }
      }
    }
  });

  it("derives ratios, tape overhead and the course estimate from the medians", () => {
    for (const r of result.ratios) {
      const s = result.steps.find((x) => x.size === r.size)!;
      expect(r.ratio).toBeAllClose(s.ms[r.peer]! / s.ms[r.path]!, { rtol: 0, atol: 5e-13 });
      expect(positiveFinite(r.ratio)).toBe(true);
    }
    const peers = result.implementations.filter((i) => !i.tapegrad && i.status === "ok").length;
    expect(result.ratios).toHaveLength(2 * 2 * peers);
    for (const s of result.steps) {
      expect(result.tapeOverhead[s.size]).toBeAllClose(
        s.ms["tapegrad-autograd"]! / s.ms["tapegrad-six-eq"]!,
        { rtol: 0, atol: 5e-13 },
      );
    }
    expect(result.courseJobEstimateMs).toBeAllClose(result.steps[0]!.ms["tapegrad-six-eq"]! * 10000, {
      rtol: 0,
      atol: 5e-7,
    });
  });

  it("measures matmul (256 when quick) in the three layouts, positive and finite GFLOP/s", () => {
    expect(result.matmul.n).toBe(256);
    expect(result.matmul.implementations.map((i) => i.id)).toEqual([
      "tapegrad",
      "tfjs-wasm",
      "tfjs-cpu",
      "jax-js-wasm",
    ]);
    for (const i of result.matmul.implementations.filter((x) => x.status === "ok")) {
      for (const v of MATMUL_VARIANTS)
        expect(positiveFinite(result.matmul.gflops[i.id]?.[v]), `${i.id} ${v}`).toBe(true);
    }
    expect(result.matmul.implementations[0]!.status).toBe("ok");
  });

  it("checks, then times the LeNet step of tapegrad and both tfjs backends; ratios from the medians", () => {
    const l = result.lenet;
    expect(l.implementations.map((i) => [i.id, i.dtype, i.status])).toEqual([
      ["tapegrad", "float64", "ok"],
      ["tfjs-wasm", "float32", "ok"],
      ["tfjs-cpu", "float32", "ok"],
    ]);
    for (const i of l.implementations) {
      const check = l.checks[i.id]!;
      expect(check.ok, i.id).toBe(true);
      expect(check.lossAfter).toBeLessThan(check.lossBefore);
      expect(check.relativeToReference).toBeLessThan(LENET_FLOAT32_TOLERANCE);
      expect(positiveFinite(l.ms[i.id]), i.id).toBe(true);
      expect(l.measurements[i.id]!.medianMs).toBe(median(l.measurements[i.id]!.samplesMs));
    }
    expect(l.ratios.map((r) => r.peer)).toEqual(["tfjs-wasm", "tfjs-cpu"]);
    for (const r of l.ratios)
      expect(r.ratio).toBeAllClose(l.ms[r.peer]! / l.ms.tapegrad!, { rtol: 0, atol: 5e-13 });
    expect(lines.filter((x) => x.startsWith("check: LeNet ") && x.endsWith("✓"))).toHaveLength(3);
    const table = lines.indexOf(
      "LeNet-5-like training step, batch 64, 28×28 (ms per step, median; ratio = peer ms / tapegrad ms)",
    );
    expect(table).toBeGreaterThan(0);
    expect(lines[table + 1]).toMatch(/^implementation\s+dtype\s+ms\/step\s+tapegrad is$/);
    expect(lines[table + 2]).toMatch(/^tapegrad\s+float64\s+[\d.]+$/);
    expect(lines[table + 3]).toMatch(
      /^tfjs-wasm\s+float32\s+[\d.]+\s+[\d.]+× (faster|slower)$|^tfjs-wasm\s+float32\s+[\d.]+\s+same$/,
    );
  });

  it("prints the tables and writes the same numbers to the JSON file", () => {
    expect(lines.some((l) => l.startsWith("ms per full-batch training step"))).toBe(true);
    expect(lines.some((l) => l.startsWith("S 2-4-1 m=400"))).toBe(true);
    expect(lines.some((l) => l.startsWith("tape overhead"))).toBe(true);
    expect(lines.some((l) => l.startsWith("tapegrad (float64)"))).toBe(true);
    expect(JSON.parse(readFileSync(outFile, "utf8"))).toEqual(JSON.parse(JSON.stringify(result)));
  });
});

describe("bench helpers", () => {
  it("comparePaths catches a wrong hand-written gradient (dW1 doubled)", () => {
    const problem = makeProblem(SIZES[0]!);
    expect(comparePaths(problem, { steps: 1 }).max).toBeLessThan(PATH_TOLERANCE);
    const wrong = comparePaths(problem, {
      steps: 1,
      manual: (params, X, Y) => {
        const grads = sixEquationGrads(params, X, Y);
        return { ...grads, dW1: mul(grads.dW1, 2) };
      },
    });
    // ‖2g − g‖ / (‖2g‖ + ‖g‖) = 1/3
    expect(wrong.relativeDifference.dW1).toBeAllClose(1 / 3, { rtol: 0, atol: 5e-11 });
    expect(wrong.relativeDifference.dW2).toBeLessThan(PATH_TOLERANCE);
  });

  it("the LeNet check catches a tfjs network that flattens its maps in NHWC order (a planted bug)", async () => {
    await initTfjs();
    const problem = makeLenetProblem();
    const reference = tapegradLenet.createRunner(problem);
    for (let i = 0; i < LENET_CHECK_STEPS; i++) reference.step();
    const referenceAfter = reference.cost() as number;
    const good = await lenetCheck(tfjsLenet("wasm"), problem, referenceAfter);
    expect(good.ok).toBe(true);
    const bad = await lenetCheck(tfjsLenet("wasm", { nchwFlatten: false }), problem, referenceAfter);
    // the first linear layer sees the features permuted: the loss still falls, but off tapegrad's
    expect(bad.lossAfter).toBeLessThan(bad.lossBefore);
    expect(bad.relativeToReference).toBeGreaterThan(10 * LENET_FLOAT32_TOLERANCE);
    expect(bad.ok).toBe(false);
  });

  it("median of odd and even counts", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow(/no values/);
  });

  it("formatRatio says who is faster", () => {
    expect(formatRatio(3.14)).toBe("3.1× faster");
    expect(formatRatio(0.5)).toBe("2.0× slower");
    expect(formatRatio(21.4)).toBe("21× faster");
    expect(formatRatio(1.01)).toBe("same");
  });

  it("measureInterleaved spreads a slow task's samples over the rounds", async () => {
    const busy = (ms: number) => () => {
      const end = performance.now() + ms;
      while (performance.now() < end) {}
    };
    const plan: TimingPlan = {
      warmupMs: 1,
      targetSampleMs: 2,
      budgetMs: 1000,
      minReps: 6,
      maxReps: 6,
      slowMs: 8,
      slowReps: 2,
    };
    // rounds finished when each call of the slow task starts: its warm-up call, then its two samples
    let finished = 0;
    const slowCalls: number[] = [];
    const slow = busy(10);
    const tasks = [
      { id: "fast", run: busy(0.5) },
      {
        id: "slow",
        run: () => {
          slowCalls.push(finished);
          slow();
        },
      },
    ];
    const done: string[] = [];
    const m = await measureInterleaved(tasks, plan, {
      onDone: (t) => done.push(t.id),
      onRound: (r) => (finished = r),
    });
    expect(finished).toBe(6);
    expect(m.get("fast")!.samplesMs).toHaveLength(6);
    expect(m.get("slow")!.samplesMs).toHaveLength(2);
    expect(m.get("slow")!.callsPerSample).toBe(1);
    expect(done.sort()).toEqual(["fast", "slow"]);
    // one warm-up call (slow), then samples in rounds 3 and 6 — not 1 and 2
    expect(slowCalls).toEqual([0, 2, 5]);
    for (const x of m.values()) expect(x.medianMs).toBeGreaterThan(0);
  });
});
