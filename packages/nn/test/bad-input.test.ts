/**
 * The bad-input catalogue: every public function of @tapegrad/autograd and @tapegrad/nn, called with bad
 * input — shape mismatches, ragged or empty arrays, non-numbers, out-of-range axes, a non-scalar backward
 * without a seed, wrong argnums, custom-op backwards returning the wrong count or shapes, X and Y with
 * different numbers of examples, labels that are not 0/1, NaN/Infinity in data, a parameter object missing
 * a key. Each must throw an `Error` whose message starts with the function's name and names the offending
 * shapes or values — never return a NaN or a wrong-shaped result, never fail inside a kernel.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ag from "@tapegrad/autograd";
import { RandomState, type Tensor, tensor, zeros } from "@tapegrad/autograd";
import * as nn from "@tapegrad/nn";
import { describe, expect, test } from "vitest";

const m = (r: number, c: number): Tensor => zeros([r, c]);
const X = tensor([
  [0.5, -1, 2],
  [1, 0.25, -0.5],
]);
const Y = tensor([[1, 0, 1]]);
const params = (): nn.Params => nn.initializeParameters(2, 4, 1);
const dir = mkdtempSync(join(tmpdir(), "tapegrad-bad-input-"));
const garbage = join(dir, "garbage.safetensors");
writeFileSync(garbage, Buffer.from("not a checkpoint at all"));
const swish = (backward: ag.CustomOpDefinition["backward"]) =>
  ag.defineOp({ name: "swish", forward: (x) => ag.mul(x!, ag.sigmoid(x!)), backward });

/** [function name as the message starts, the call, fragments the message must contain] */
type Case = [string, () => unknown, string[]];

const autogradCases: Case[] = [
  ["tensor", () => tensor([[1, 2], [3]]), ["ragged", "[1]", "length 1", "length 2"]],
  ["tensor", () => tensor([1, "2" as unknown as number]), ["[1]", 'the string "2"']],
  ["tensor", () => tensor([1, null as unknown as number]), ["[1]", "null"]],
  ["tensor", () => tensor(new Float64Array(5), { shape: [2, 3] }), ["5 elements", "[2, 3]"]],
  ["tensor", () => tensor({} as unknown as number), ["an object"]],
  ["tensor", () => tensor([[], [1]]), ["ragged", "length 1"]],
  ["zeros", () => zeros([2, -1]), ["[2, -1]"]],
  ["full", () => ag.full([2], "x" as unknown as number), ['the string "x"']],
  ["arange", () => ag.arange(0, Number.NaN), ["stop", "NaN"]],
  ["eye", () => ag.eye(-2), ["[-2, -2]"]],
  ["add", () => ag.add(m(2, 3), m(3, 2)), ["[2, 3]", "[3, 2]", "cannot be broadcast"]],
  ["sub", () => ag.sub(m(2, 3), "1" as unknown as number), ["argument 2", 'the string "1"']],
  [
    "tanhGrad",
    () => ag.tanhGrad(m(4, 400), m(4, 1)),
    ["g has shape [4, 400]", "y has shape [4, 1]", "same shape"],
  ],
  ["sigmoidGrad", () => ag.sigmoidGrad(m(1, 3), null as unknown as Tensor), ["argument 2", "null"]],
  ["mul", () => ag.mul(m(4, 2), zeros([3])), ["[4, 2]", "[3]"]],
  ["div", () => ag.div(zeros([2]), zeros([3])), ["[2]", "[3]"]],
  ["pow", () => ag.pow(zeros([2]), zeros([5])), ["[2]", "[5]"]],
  ["maximum", () => ag.maximum(m(2, 2), m(3, 3)), ["[2, 2]", "[3, 3]"]],
  ["minimum", () => ag.minimum(m(2, 2), undefined as unknown as Tensor), ["argument 2", "undefined"]],
  ["where", () => ag.where(zeros([2]), zeros([3]), 0), ["[2]", "[3]"]],
  ["clip", () => ag.clip(m(1, 1), 2, 1), ["lo = 2", "hi = 1"]],
  ["matmul", () => ag.matmul(m(4, 2), m(3, 400)), ["[4, 2] @ [3, 400]", "2 ≠ 3"]],
  ["matmul", () => ag.matmul(tensor(1), m(1, 1)), ["[]", "[1, 1]"]],
  ["matmul", () => ag.matmul(ag.zeros([2, 2, 3]), ag.zeros([3, 3, 1])), ["batch axes", "[2]", "[3]"]],
  ["addmm", () => ag.addmm(m(3, 3), m(2, 2), m(2, 2)), ["[3, 3]", "[2, 2]"]],
  ["transpose", () => ag.transpose(m(2, 3), [0, 2]), ["axis 2", "rank 2"]],
  ["reshape", () => ag.reshape(m(2, 3), [4]), ["[2, 3]", "6 elements", "[4]"]],
  ["reshape", () => ag.reshape(m(2, 3), [-1, -1]), ["[-1, -1]"]],
  ["concat", () => ag.concat([m(2, 3), m(3, 2)]), ["tensor 1", "[3, 2]", "[2, 3]"]],
  ["concat", () => ag.concat([]), ["non-empty"]],
  ["stack", () => ag.stack([zeros([2]), zeros([3])]), ["[3]", "[2]"]],
  ["take", () => ag.take(m(2, 3), [3], 1), ["index 3", "axis 1", "size 3"]],
  ["take", () => ag.take(m(2, 3), [0], 2), ["axis 2", "rank 2"]],
  ["sum", () => ag.sum(m(2, 2), 2), ["axis 2", "rank 2"]],
  ["mean", () => ag.mean(m(2, 2), [0, 0]), ["axis 0", "repeated"]],
  ["mean", () => ag.mean(zeros([0])), ["zero elements", "[0]"]],
  ["max", () => ag.max(m(0, 3), 0), ["empty axis", "[0, 3]"]],
  ["min", () => ag.min(m(2, 2), 1.5), ["axis 1.5"]],
  ["logsumexp", () => ag.logsumexp(m(2, 2), -3), ["axis -3", "rank 2"]],
  ["softmax", () => ag.softmax(zeros([3]), 1), ["axis 1", "rank 1"]],
  ["logSoftmax", () => ag.logSoftmax(tensor(1)), ["axis -1", "rank 0"]],
  ["broadcastTo", () => ag.broadcastTo(zeros([3]), [2, 2]), ["[3]", "[2, 2]"]],
  ["sumTo", () => ag.sumTo(m(2, 3), [4]), ["[2, 3]", "[4]"]],
  ["scatterAdd", () => ag.scatterAdd(zeros([2]), [0, 1], 0, [1]), ["index 1", "size 1"]],
  ["item", () => m(2, 2).item(), ["[2, 2]"]],
  ["backward", () => ag.mul(tensor([1, 2], { requiresGrad: true }), 2).backward(), ["non-scalar", "[2]"]],
  ["backward", () => ag.sum(tensor([1, 2])).backward(), ["does not require grad"]],
  ["backward", () => ag.mul(tensor([1, 2], { requiresGrad: true }), 2).backward(zeros([3])), ["[3]", "[2]"]],
  ["grad", () => ag.grad((x: Tensor) => ag.mul(x, 2))(tensor([1, 2])), ["scalar", "[2]"]],
  ["grad", () => ag.grad((x: Tensor) => ag.sum(x), 1)(tensor([1, 2])), ["argnums", "1"]],
  ["grad", () => ag.grad((x: Tensor) => ag.sum(x), [0, 0])(tensor([1, 2])), ["argnums", "0"]],
  ["valueAndGrad", () => ag.valueAndGrad((x: Tensor) => x)(tensor([1, 2])), ["scalar", "[2]"]],
  ["vjp", () => ag.vjp((x: Tensor) => ag.mul(x, 2), tensor([1, 2]))[1](zeros([3])), ["[3]", "[2]"]],
  ["jvp", () => ag.jvp((x: Tensor) => x, [tensor([1, 2])], [zeros([3])]), ["[3]", "[2]"]],
  ["hvp", () => ag.hvp((x: Tensor) => ag.sum(x), tensor([1, 2]), zeros([3])), ["[3]", "[2]"]],
  ["hessian", () => ag.hessian((x: Tensor) => x)(tensor([1, 2])), ["scalar", "[2]"]],
  [
    'backward of custom op "swish"',
    () => ag.sum(swish((g) => [g, g])(tensor([1, 2], { requiresGrad: true }))).backward(),
    ["2 gradients", "1 input"],
  ],
  [
    'backward of custom op "swish"',
    () => ag.sum(swish((g) => [ag.sum(g, 0, true)])(tensor([[1, 2]], { requiresGrad: true }).T)).backward(),
    ["input 0", "[1, 1]", "[2, 1]"],
  ],
  ["defineOp", () => ag.defineOp({ name: "", forward: (x) => x!, backward: (g) => [g] }), ["name"]],
  [
    "gradcheck",
    () => ag.gradcheck((x: Tensor) => x, ["x" as unknown as Tensor]),
    ["argument 1", 'the string "x"'],
  ],
  ["numericGradient", () => ag.numericGradient((x: Tensor) => x, tensor([1, 2])), ["scalar", "[2]"]],
  [
    "checkDerivation",
    () =>
      ag.checkDerivation(
        (p) => ag.sum(p.W!),
        { W: m(1, 2) },
        () => ({ dW: m(2, 1) }),
      ),
    ["dW has shape [2, 1]", "W has shape [1, 2]"],
  ],
  [
    "checkDerivation",
    () =>
      ag.checkDerivation(
        (p) => ag.sum(p.W!),
        { W: m(1, 2) },
        () => ({ dZ: m(1, 2) }),
      ),
    ['"dZ"', "names nothing", "dW"],
  ],
  [
    "checkDerivation",
    () =>
      ag.checkDerivation(
        (p) => p.W!,
        { W: m(1, 2) },
        () => ({}),
      ),
    ["scalar", "[1, 2]"],
  ],
  [
    "checkDerivation",
    () =>
      ag.checkDerivation(
        (p, name) => ag.sum(name("Z", name("Z", ag.neg(p.W!)))),
        { W: m(1, 2) },
        () => ({}),
      ),
    ['"Z"', "used twice"],
  ],
  [
    "checkDerivation",
    () =>
      ag.checkDerivation(
        (p: ag.DerivationInputs) => ag.sum(p.W!),
        [m(1, 2)] as unknown as ag.DerivationInputs,
        () => ({}),
      ),
    ["inputs", "an array"],
  ],
  ["relativeDifference", () => ag.relativeDifference(zeros([2]), zeros([3])), ["[2]", "[3]"]],
  ["RandomState", () => new RandomState(-1), ["seed", "-1"]],
  ["RandomState.randn", () => new RandomState(1).randn(2, -1), ["[2, -1]"]],
  ["RandomState.randint", () => new RandomState(1).randint(5, 2), ["5", "2"]],
];

const p = params();
const cache = nn.forwardPropagation(X, p).cache;
const nnCases: Case[] = [
  ["layerSizes", () => nn.layerSizes(X, tensor([[1, 0]])), ["3 columns", "2"]],
  ["layerSizes", () => nn.layerSizes(zeros([3]), Y), ["X", "[3]"]],
  ["initializeParameters", () => nn.initializeParameters(2, 0, 1), ["nH", "0"]],
  ["forwardPropagation", () => nn.forwardPropagation(tensor([[1, 2, 3]]), p), ["W1", "[4, 2]", "1"]],
  [
    "forwardPropagation",
    () =>
      nn.forwardPropagation(
        tensor([
          [1, Number.NaN, 3],
          [1, 2, 3],
        ]),
        p,
      ),
    ["NaN", "[0, 1]"],
  ],
  [
    "forwardPropagation",
    () =>
      nn.forwardPropagation(
        tensor([
          [1, Infinity, 3],
          [1, 2, 3],
        ]),
        p,
      ),
    ["Infinity"],
  ],
  [
    "forwardPropagation",
    () => nn.forwardPropagation(X, { ...p, b2: undefined } as unknown as nn.Params),
    ["b2"],
  ],
  [
    "forwardPropagation",
    () => nn.forwardPropagation(X, p, { activation: "swish" as nn.Activation }),
    ["swish"],
  ],
  ["computeCost", () => nn.computeCost(tensor([[0.5, 0.5]]), Y), ["[1, 2]", "[1, 3]"]],
  ["computeCost", () => nn.computeCost(tensor([[0.5, 0.5, 0.5]]), tensor([[1, 2, 0]])), ["0 and 1", "2"]],
  ["backwardPropagation", () => nn.backwardPropagation(p, cache, X, tensor([[1, 0]])), ["3 columns", "2"]],
  ["backwardPropagation", () => nn.backwardPropagation(p, cache, X, tensor([[1, 0.5, 0]])), ["0.5"]],
  [
    "backwardPropagation",
    () => nn.backwardPropagation(p, { ...cache, A1: undefined } as unknown as nn.Cache, X, Y),
    ["A1"],
  ],
  ["autogradBackward", () => nn.autogradBackward({ ...p, W2: m(1, 3) }, X, Y), ["W2", "[1, 3]"]],
  [
    "updateParameters",
    () => nn.updateParameters(p, { ...nn.backwardPropagation(p, cache, X, Y), dW1: m(2, 2) }, 1.2),
    ["dW1", "[2, 2]"],
  ],
  [
    "updateParameters",
    () => nn.updateParameters(p, nn.backwardPropagation(p, cache, X, Y), Number.NaN),
    ["NaN"],
  ],
  ["nnModel", () => nn.nnModel(X, tensor([[1, 0, -1]]), 4, { numIterations: 1 }), ["-1"]],
  ["nnModel", () => nn.nnModel(X, Y, 4, { numIterations: 1.5 }), ["numIterations", "1.5"]],
  ["nnModel", () => nn.nnModel(X, Y, 4, { numIterations: 3, learningRate: 1e6 }), ["iteration"]],
  ["predict", () => nn.predict(p, tensor([[1, 2, 3]])), ["W1", "[4, 2]"]],
  ["checkBackprop", () => nn.checkBackprop(p, X, tensor([[1, 0]])), ["3 columns", "2"]],
  ["Linear", () => new nn.Linear(0, 3), ["inFeatures", "0"]],
  // a string that looks like a number is named as a string, not printed as "got 2"
  [
    "Linear",
    () => new nn.Linear("2" as unknown as number, 100),
    ['inFeatures must be a positive integer, got the string "2"'],
  ],
  [
    "Linear",
    () => new nn.Linear(2, 100).forward([[1, 2]] as unknown as Tensor),
    ["input must be a Tensor, got an array of length 1"],
  ],
  [
    "Sequential",
    () => new nn.Sequential(new nn.Tanh(), {} as nn.Module),
    ["argument 1 must be a Module, got an object"],
  ],
  [
    "SGD",
    () => new nn.SGD([tensor([1], { requiresGrad: true })], { lr: "0.1" as unknown as number }),
    ['lr must be a number in [0, ∞), got the string "0.1"'],
  ],
  [
    "uniform",
    () => nn.uniform([0, 0] as unknown as Tensor, -1, 1),
    ["the weight to fill in place must be a Tensor, got an array of length 2"],
  ],
  [
    "nnModel",
    () => nn.nnModel(X, Y, 4, { numIterations: 1, onNonFinite: "ignore" as never }),
    ['onNonFinite must be one of "throw", "warn", got the string "ignore"'],
  ],
  [
    "updateParameters",
    () =>
      nn.updateParameters(
        params(),
        nn.backwardPropagation(params(), nn.forwardPropagation(X, params()).cache, X, Y),
        "1" as unknown as number,
      ),
    ['learningRate must be a finite number, got the string "1"'],
  ],
  [
    "loadStateDict",
    () =>
      new nn.TwoLayerNet(2, 4, 1).loadStateDict({
        ...new nn.TwoLayerNet(2, 4, 1).stateDict(),
        W1: [[1]] as unknown as Tensor,
      }),
    ["W1 must be a Tensor, got an array of length 1"],
  ],
  [
    "mseLoss",
    () => nn.mseLoss(m(2, 1), undefined as unknown as Tensor),
    ["target must be a Tensor, got undefined"],
  ],
  ["decodeSafetensors", () => nn.decodeSafetensors(new Uint8Array(3)), ["input is 3 bytes"]],
  ["decodeNpy", () => nn.decodeNpy(new Uint8Array(12).fill(7)), ["not a .npy file"]],
  [
    "encodeSafetensors",
    () => nn.encodeSafetensors({ w: 1 as unknown as Tensor }),
    ['tensors["w"] must be a Tensor, got the number 1'],
  ],
  ["encodeNpy", () => nn.encodeNpy(undefined as unknown as Tensor), ["expected a Tensor, got undefined"]],
  ["Linear", () => new nn.Linear(3, 2).forward(m(4, 2)), ["[4, 2]", "3"]],
  ["bceLoss", () => nn.bceLoss(m(2, 1), m(1, 2)), ["[2, 1]", "[1, 2]"]],
  ["bceWithLogitsLoss", () => nn.bceWithLogitsLoss(m(2, 1), m(3, 1)), ["[2, 1]", "[3, 1]"]],
  ["mseLoss", () => nn.mseLoss(m(2, 1), m(2, 2)), ["[2, 1]", "[2, 2]"]],
  ["crossEntropyLoss", () => nn.crossEntropyLoss(m(2, 3), [0, 3]), ["3"]],
  ["SGD", () => new nn.SGD([tensor([1], { requiresGrad: true })], { lr: -1 }), ["lr", "-1"]],
  ["Adam", () => new nn.Adam([tensor([1], { requiresGrad: true })], { betas: [1.5, 0.9] }), ["1.5"]],
  ["TwoLayerNet", () => new nn.TwoLayerNet(2, 4, 1).forward(tensor([[1, 2, 3]])), ["[4, 2]"]],
  [
    "loadStateDict",
    () => new nn.TwoLayerNet(2, 4, 1).loadStateDict({ W1: m(3, 3) }),
    ["missing keys b1, W2, b2"],
  ],
  [
    "loadStateDict",
    () =>
      new nn.TwoLayerNet(2, 4, 1).loadStateDict({ ...new nn.TwoLayerNet(2, 4, 1).stateDict(), W1: m(3, 3) }),
    ["W1", "[3, 3]", "[4, 2]"],
  ],
  ["xavierUniform", () => nn.xavierUniform([0, 2] as unknown as Tensor), ["an array"]],
  ["heNormal", () => nn.heNormal(zeros([3])), ["2 axes", "[3]"]],
  [
    "saveParameters",
    () => nn.saveParameters(join(dir, "a.safetensors"), { W: "x" as unknown as Tensor }),
    ["W"],
  ],
  ["loadParameters", () => nn.loadParameters(garbage), [garbage]],
  ["loadParameters", () => nn.loadParameters(join(dir, "missing.safetensors")), ["missing.safetensors"]],
  ["loadNpy", () => nn.loadNpy(garbage), [garbage]],
];

function expectClearError(name: string, f: () => unknown, fragments: string[]): void {
  let thrown: unknown;
  let result: unknown;
  try {
    result = f();
  } catch (e) {
    thrown = e;
  }
  expect(result, `${name} returned instead of throwing`).toBeUndefined();
  expect(thrown).toBeInstanceOf(Error);
  const message = (thrown as Error).message;
  expect(message.startsWith(name), `message should start with "${name}": ${message}`).toBe(true);
  for (const fragment of fragments) expect(message).toContain(fragment);
}

describe.each([
  ["@tapegrad/autograd", autogradCases],
  ["@tapegrad/nn", nnCases],
])("%s", (_pkg, cases) => {
  test.each(cases.map(([name, f, fragments], i) => [`${i}: ${name}`, name, f, fragments] as const))(
    "%s",
    (_label, name, f, fragments) => expectClearError(name, f, fragments),
  );
});

test("the catalogue is large enough to mean something", () => {
  expect(autogradCases.length + nnCases.length).toBeGreaterThanOrEqual(90);
});
