/** Every public op validates at the boundary and says what is wrong: the op, the shapes or values, what was expected. */

import * as ag from "@tapegrad/autograd";
import { tensor } from "@tapegrad/autograd";
import { describe, expect, test } from "vitest";

const m = (r: number, c: number) => ag.zeros([r, c]);

describe("error messages", () => {
  test.each([
    ["matmul: inner dimensions differ: [4, 2] @ [3, 400] (2 ≠ 3)", () => ag.matmul(m(4, 2), m(3, 400))],
    [
      "matmul: inner dimensions differ: [4, 2]ᵀ @ [3, 400] (4 ≠ 3)",
      () => ag.matmul(m(4, 2), m(3, 400), { transposeA: true }),
    ],
    ["matmul: operands must have at least 1 axis", () => ag.matmul(tensor(2), m(1, 1))],
    [
      "matmul: batch axes of [2, 1, 2] @ [3, 2, 1]: shapes [2] and [3] cannot be broadcast",
      () => ag.matmul(ag.zeros([2, 1, 2]), ag.zeros([3, 2, 1])),
    ],
    ["addmm: inner dimensions differ: [4, 2] @ [3, 400] (2 ≠ 3)", () => ag.addmm(0, m(4, 2), m(3, 400))],
    [
      "addmm: the bias of shape [4, 400] does not broadcast to the product's shape [4, 1]",
      () => ag.addmm(m(4, 400), m(4, 2), m(2, 1)),
    ],
    ["addmm: the factors must be at least 2-D, got [2] @ [2, 1]", () => ag.addmm(0, ag.zeros([2]), m(2, 1))],
    ["add: shapes [2, 3] and [4] cannot be broadcast", () => ag.add(m(2, 3), ag.zeros([4]))],
    ["mul: shapes [2, 3] and [3, 2] cannot be broadcast", () => ag.mul(m(2, 3), m(3, 2))],
    ["where: shapes [2] and [3] cannot be broadcast", () => ag.where(ag.zeros([2]), ag.zeros([3]), 0)],
    ["sum: axis 2 is out of range for a tensor of rank 2", () => ag.sum(m(2, 2), 2)],
    ["max: axis -3 is out of range for a tensor of rank 2", () => ag.max(m(2, 2), -3)],
    ["mean: axis 1 is repeated", () => ag.mean(m(2, 2), [1, -1])],
    ["max: cannot reduce an empty axis of a tensor of shape [0, 2]", () => ag.max(m(0, 2), 0)],
    ["reshape: cannot reshape [2, 3] (6 elements) to [4]", () => ag.reshape(m(2, 3), [4])],
    ["reshape: only one axis may be -1", () => ag.reshape(m(2, 3), [-1, -1])],
    ["reshape: cannot reshape [2, 3] (6 elements) to [-1, 4]", () => ag.reshape(m(2, 3), [-1, 4])],
    ["transpose: axes [0, 0] are not a permutation of the 2 axes", () => ag.transpose(m(2, 3), [0, 0])],
    ["T: expects a 2-D tensor, got shape [3]", () => ag.zeros([3]).T],
    [
      "concat: tensor 1 has shape [2, 2], which does not match [2, 3] except along axis 0",
      () => ag.concat([m(2, 3), m(2, 2)]),
    ],
    ["concat: expected a non-empty array of tensors", () => ag.concat([])],
    [
      "stack: tensor 1 has shape [3], expected [2] like tensor 0",
      () => ag.stack([ag.zeros([2]), ag.zeros([3])]),
    ],
    ["take: index 5 (position 1) is out of range for axis 1 of size 3", () => ag.take(m(2, 3), [0, 5], 1)],
    ["take: index 1.5 (position 0) is out of range", () => ag.take(m(2, 3), [1.5])],
    ["clip: expected numbers lo ≤ hi, got lo = 1, hi = 0", () => ag.clip(m(1, 1), 1, 0)],
    [
      "tensor: ragged nested array: the entry at [1] has length 1, expected an array of length 2",
      () => tensor([[1, 2], [3]]),
    ],
    [
      'tensor: element at [0, 1] is the string "x", expected a number',
      () => tensor([[1, "x" as unknown as number]]),
    ],
    ["tensor: data has 4 elements but shape [3] has 3", () => tensor(new Float64Array(4), { shape: [3] })],
    [
      "tensor: a shape must be an array of non-negative integers, got [2, -1]",
      () => tensor(new Float64Array(2), { shape: [2, -1] }),
    ],
    [
      'add: argument 2 must be a Tensor or a number, got the string "1"',
      () => ag.add(m(1, 1), "1" as unknown as number),
    ],
    [
      "mul: argument 1 must be a Tensor or a number, got an array of length 2 (wrap it with tensor(...))",
      () => ag.mul([1, 2] as unknown as number, 2),
    ],
    [
      "item: only a tensor with one element can be converted to a number, got shape [2]",
      () => ag.zeros([2]).item(),
    ],
    ["arange: step must not be 0", () => ag.arange(0, 1, 0)],
    ["zeros: a shape must be an array of non-negative integers, got [1.5]", () => ag.zeros([1.5])],
  ])("%s", (message, f) => {
    expect(f).toThrow(message);
  });

  test("errors are thrown before any kernel runs (no NaN or wrong shape escapes)", () => {
    let result: unknown;
    try {
      result = ag.add(m(2, 3), m(3, 2));
    } catch {
      // expected
    }
    expect(result).toBeUndefined();
  });
});
