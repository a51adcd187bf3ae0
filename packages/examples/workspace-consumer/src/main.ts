/**
 * @file A workspace neighbour using tapegrad through its public API only: XOR, which no linear model
 * separates, learned by the course's two-layer network (`TwoLayerNet`, column layout) with `SGD` and
 * `bceLoss`, plus one gradient taken by hand with `backward()`.
 *
 * Run: `npx -y pnpm@10 --filter @tapegrad/workspace-consumer start`.
 */
import { realpathSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { greater, mul, noGrad, sum, tanh, tensor } from "@tapegrad/autograd";
import { bceLoss, SGD, TwoLayerNet } from "@tapegrad/nn";

/** Train on XOR; returns the predictions for the four corners and the gradient check value. */
export function run(log: (line: string) => void = console.log): {
  predictions: number[];
  gradient: number[];
} {
  // the four corners, one per column, and their XOR labels
  const X = tensor([
    [0, 0, 1, 1],
    [0, 1, 0, 1],
  ]);
  const Y = tensor([[0, 1, 1, 0]]);
  const net = new TwoLayerNet(2, 4, 1, { seed: 2 });
  // the course's 0.01-scale initial weights barely move XOR's symmetric gradients: start larger
  noGrad(() => {
    for (const p of [net.W1, net.W2]) p.data.set(mul(p, 100).data);
  });
  const optimizer = new SGD(net.parameters(), { lr: 1.2 });
  for (let i = 0; i < 2000; i++) {
    optimizer.zeroGrad();
    bceLoss(net.forward(X), Y).backward();
    optimizer.step();
  }
  const predictions = Array.from(noGrad(() => greater(net.forward(X), 0.5)).data);
  log(`XOR of (0,0) (0,1) (1,0) (1,1) predicted as ${predictions.join(" ")} (expected 0 1 1 0)`);

  // d/dx Σ x·tanh(x) = tanh(x) + x·(1 − tanh²(x))
  const x = tensor([0.5, -1.25], { requiresGrad: true });
  sum(mul(tanh(x), x)).backward();
  const gradient = Array.from(x.grad!.data);
  log(`d/dx Σ x·tanh(x) at [0.5, -1.25] = [${gradient.map((g) => g.toFixed(6)).join(", ")}]`);
  return { predictions, gradient };
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(realpathSync(entry)).href) run();
