import { fileURLToPath } from "node:url";
import {
  AnomalyError,
  defineOp,
  detectAnomaly,
  exp,
  isAnomalyEnabled,
  log,
  mul,
  sqrt,
  sum,
  type Tensor,
  tensor,
} from "@tapegrad/autograd";
import { describe, expect, test } from "vitest";
import { userSite } from "../src/anomaly.js";

/** The line number of the caller's caller + 1: call it on the line before the op under test. */
function nextLine(): number {
  const frame = new Error().stack!.split("\n")[2]!;
  return Number(/anomaly\.test\.ts:(\d+):\d+/.exec(frame)![1]) + 1;
}

function anomalyOf(fn: () => void): AnomalyError {
  try {
    detectAnomaly(fn);
  } catch (e) {
    expect(e).toBeInstanceOf(AnomalyError);
    return e as AnomalyError;
  }
  throw new Error("expected an AnomalyError");
}

describe("detectAnomaly", () => {
  test("names the forward op that made a NaN, its input shapes, the position and the user's line", () => {
    const x = tensor([
      [1, 2],
      [3, -4],
    ]);
    let line = 0;
    const e = anomalyOf(() => {
      const y = exp(x);
      line = nextLine();
      log(mul(y, tensor([1, -1])));
    });
    expect(e.op).toBe("log");
    expect(e.phase).toBe("forward");
    expect(e.position).toEqual([0, 1]);
    expect(e.message).toContain("forward of log produced NaN at [0, 1] of its output [2, 2]");
    expect(e.message).toContain("(inputs [2, 2]; all inputs were finite)");
    expect(e.message).toContain(`anomaly.test.ts:${line}`);
  });

  test("says when an input was already bad", () => {
    const e = anomalyOf(() => {
      exp(tensor([1, Number.NaN]));
    });
    expect(e.message).toContain("an input already contained NaN/Infinity");
  });

  test("blames the backward of the op whose gradient is not finite (sqrt at 0), not an op inside its rule", () => {
    const x = tensor([0, 4], { requiresGrad: true });
    let line = 0;
    const e = anomalyOf(() => {
      line = nextLine();
      const y = sqrt(x);
      sum(y).backward();
    });
    expect(e.op).toBe("sqrt");
    expect(e.phase).toBe("backward");
    expect(e.position).toEqual([0]);
    expect(e.message).toContain("backward of sqrt produced Infinity at [0] of the gradient for input 0 [2]");
    expect(e.message).toContain("the incoming gradient was finite, all inputs were finite");
    expect(e.message).toContain(`op created at`);
    expect(e.message).toContain(`anomaly.test.ts:${line}`);
    expect(x.grad).toBeNull();
  });

  test("custom ops are checked and named too", () => {
    const inv = defineOp({
      name: "inv",
      forward: (x) => tensor(x.data.map((v) => 1 / v)),
      backward: (g) => [g],
    });
    const e = anomalyOf(() => {
      inv(tensor([2, 0]));
    });
    expect(e.op).toBe('custom op "inv"');
    expect(e.message).toContain('forward of custom op "inv" produced Infinity at [1]');
  });

  test("is off by default and after detectAnomaly, also when it threw; off, NaN flows silently", () => {
    expect(isAnomalyEnabled()).toBe(false);
    expect(() => detectAnomaly(() => log(tensor([-1])))).toThrow(AnomalyError);
    expect(isAnomalyEnabled()).toBe(false);
    expect(log(tensor([-1])).data[0]).toBeNaN();
    // No source line is recorded when off (no stack trace per op).
    const y = mul(tensor([1], { requiresGrad: true }), 2);
    expect(y._node!.site).toBeNull();
    expect(detectAnomaly(() => 7)).toBe(7);
  });

  test("an async function keeps anomaly mode until its promise settles", async () => {
    let inside = false;
    await detectAnomaly(async () => {
      await Promise.resolve();
      inside = isAnomalyEnabled();
    });
    expect(inside).toBe(true);
    expect(isAnomalyEnabled()).toBe(false);
  });

  test("finite computations pass through unchanged", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const value = detectAnomaly(() => {
      const y: Tensor = sum(mul(x, x));
      y.backward();
      return y.item();
    });
    expect(value).toBe(5);
    expect(Array.from(x.grad!.data)).toEqual([2, 4]);
  });
});

describe("the user's frame in a stack trace", () => {
  const src = fileURLToPath(new URL("../src/", import.meta.url));

  test("skips the library's frames and frames without a location, in V8's and SpiderMonkey's formats", () => {
    const v8 = [
      "Error",
      `    at apply (${src}primitives/apply.ts:17:31)`,
      `    at Object.log (file://${src}ops/elementwise.ts:29:38)`,
      "    at Array.map (<anonymous>)",
      "    at train (/home/me/train.ts:12:5)",
      "    at main (/home/me/train.ts:30:1)",
    ].join("\n");
    expect(userSite(v8)).toBe("train (/home/me/train.ts:12:5)");
    const spiderMonkey = [
      "",
      `apply@${src}primitives/apply.ts:17:31`,
      `log@file://${src}ops/elementwise.ts:29:38`,
      "train@http://localhost:5173/src/train.ts?t=1:12:5",
    ].join("\n");
    expect(userSite(spiderMonkey)).toBe("train@http://localhost:5173/src/train.ts?t=1:12:5");
  });

  test("says so when every frame is the library's", () => {
    expect(userSite(`Error\n    at apply (${src}primitives/apply.ts:17:31)`)).toBe("unknown location");
    expect(userSite(null)).toBe("unknown location");
  });
});
