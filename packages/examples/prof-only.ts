import { makeProblem, SIZES } from "./src/bench/problem.ts";
import { tapegradAutograd, tapegradSixEquations } from "./src/bench/tapegrad.ts";

const impl = process.argv[2] === "tape" ? tapegradAutograd : tapegradSixEquations;
const size = SIZES.find((s) => s.name === (process.argv[3] ?? "S"))!;
const r = impl.createRunner(makeProblem(size));
const n = Number(process.argv[4] ?? 30000);
const t0 = performance.now();
for (let i = 0; i < n; i++) r.step();
console.log(((performance.now() - t0) / n).toFixed(4), "ms/step");
