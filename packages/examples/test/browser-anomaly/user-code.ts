/**
 * @file User code that makes a NaN and an Infinity under anomaly mode, bundled together with the library (by
 * Vite for the page, by esbuild for Node). Each op is called from a method whose name a minifier keeps (a
 * property name), so a test can tell whether "created at" names the user's frame or one of the library's.
 */
import { AnomalyError, detectAnomaly, log, tensor } from "@tapegrad/autograd";

/** The user's code under test: each method's ops are the ones anomaly mode must blame. */
export const userCode = {
  poisonedForward(): void {
    log(tensor([1, -1])); // log(−1) is NaN: forward of log, created here
  },
  poisonedBackward(): void {
    const x = tensor([0, 4], { requiresGrad: true });
    x.sqrt().sum().backward(); // the gradient of √x at 0 is Infinity: backward of sqrt, created here
  },
};

function messageOf(fn: () => void): string {
  try {
    detectAnomaly(fn);
  } catch (e) {
    return e instanceof AnomalyError ? e.message : `not an AnomalyError: ${String(e)}`;
  }
  return "no error";
}

/** The messages of the two anomalies. */
export function anomalyMessages(): { forward: string; backward: string } {
  return {
    forward: messageOf(() => userCode.poisonedForward()),
    backward: messageOf(() => userCode.poisonedBackward()),
  };
}
