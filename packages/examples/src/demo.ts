/** @file The smallest real program: build an expression, run backward, print the gradient. */
import { mul, sum, tanh, tensor } from "@tapegrad/autograd";

const x = tensor(
  [
    [0.5, -1.25],
    [2, 0],
  ],
  { requiresGrad: true },
);
const y = sum(mul(tanh(x), x));
y.backward();
console.log(`y = Σ x·tanh(x) = ${y.item()}`);
console.log(`dy/dx =\n${x.grad}`);
