/**
 * @file `@tapegrad/autograd/testing`: fast-check arbitraries for property tests of tensor code — shapes,
 * pairs of broadcastable shapes, tensors with bounded finite values (optionally away from kinks). Built
 * from `fc.tuple`/`chain`/`map`, so a failing case shrinks to a small shape and simple values.
 * Also random expression graphs over every primitive (`arbGraph`, `runGraph`, `checkGraph`) for fuzzing
 * gradients. Needs `fast-check` (an optional peer dependency); the main entry never imports it.
 */
import fc from "fast-check";
// Before the library's modules: marks where its code begins in a bundle (see library-span.ts).
import { librarySpan } from "../library-span.js";
import { Tensor } from "../tensor.js";

/** Options of `arbShape`. */
export interface ShapeOptions {
  /** Fewest axes. Default 0 (a scalar). */
  minRank?: number;
  /** Most axes. Default 3. */
  maxRank?: number;
  /** Smallest axis length. Default 1. */
  minSide?: number;
  /** Largest axis length. Default 4. */
  maxSide?: number;
}

/**
 * Shapes: `minRank`…`maxRank` axes (default 0…3), each of length `minSide`…`maxSide` (default 1…4).
 * Shrinks towards fewer and shorter axes.
 */
export function arbShape(options: ShapeOptions = {}): fc.Arbitrary<number[]> {
  const { minRank = 0, maxRank = 3, minSide = 1, maxSide = 4 } = options;
  return fc.array(fc.integer({ min: minSide, max: maxSide }), { minLength: minRank, maxLength: maxRank });
}

/**
 * Pairs of shapes that broadcast together (numpy rules): a common shape, from which each side drops some
 * leading axes (rank differences) and sets some axes to 1. Shrinks towards equal, small shapes.
 * @example fc.assert(fc.property(arbBroadcastableShapes(), ([a, b]) => broadcastShapes(a, b).length >= a.length))
 */
export function arbBroadcastableShapes(options: ShapeOptions = {}): fc.Arbitrary<[number[], number[]]> {
  const side = (full: number[]): fc.Arbitrary<number[]> =>
    fc
      .tuple(
        fc.integer({ min: 0, max: full.length }),
        fc.array(fc.boolean(), { minLength: full.length, maxLength: full.length }),
      )
      .map(([drop, ones]) => full.map((d, i) => (ones[i] ? 1 : d)).slice(drop));
  return arbShape(options).chain((full) => fc.tuple(side(full), side(full)));
}

/** Options of `arbTensor`. */
export interface TensorArbOptions {
  /** A fixed shape, or an arbitrary of shapes. Default `arbShape()`. */
  shape?: readonly number[] | fc.Arbitrary<number[]>;
  /** Smallest value. Default -3. */
  min?: number;
  /** Largest value. Default 3. */
  max?: number;
  /** Points to stay away from (kinks: 0 for relu and abs); values within `avoidRadius` are pushed out. */
  avoid?: readonly number[];
  /** Default 1e-3: far beyond a gradient check's step (1e-4), so finite differences do not cross a kink. */
  avoidRadius?: number;
  /** Make the tensor a leaf that requires grad. Default false. */
  requiresGrad?: boolean;
}

/**
 * Tensors with finite values in [min, max] (default [-3, 3]; never NaN or ±Infinity), of a fixed shape or
 * of shapes drawn from an arbitrary. With `avoid`, values closer than `avoidRadius` to a listed point are
 * moved to that distance (a map, not a filter, so generation never stalls and shrinking still works).
 * @example fc.property(arbTensor({ shape: [2, 3], avoid: [0] }), (x) => gradcheck(relu, [x]).ok)
 */
export function arbTensor(shapeOrOptions: readonly number[] | TensorArbOptions = {}): fc.Arbitrary<Tensor> {
  const options: TensorArbOptions = Array.isArray(shapeOrOptions)
    ? { shape: shapeOrOptions as readonly number[] }
    : (shapeOrOptions as TensorArbOptions);
  const { min = -3, max = 3, avoid = [], avoidRadius = 1e-3, requiresGrad = false } = options;
  if (!(min <= max)) throw new Error(`arbTensor: min ${min} must not exceed max ${max}`);
  const shapes: fc.Arbitrary<number[]> =
    options.shape === undefined
      ? arbShape()
      : options.shape instanceof fc.Arbitrary
        ? options.shape
        : fc.constant([...(options.shape as readonly number[])]);
  const push = (v: number): number => {
    for (const p of avoid) {
      if (Math.abs(v - p) < avoidRadius) {
        const away = v >= p ? p + avoidRadius : p - avoidRadius;
        // Stay inside [min, max]: go to the other side if this one leaves the range.
        return away > max || away < min ? (v >= p ? p - avoidRadius : p + avoidRadius) : away;
      }
    }
    return v;
  };
  return shapes.chain((shape) => {
    const size = shape.reduce((p, d) => p * d, 1);
    return fc
      .array(fc.double({ min, max, noNaN: true, noDefaultInfinity: true }), {
        minLength: size,
        maxLength: size,
      })
      .map(
        (values) =>
          new Tensor(
            Float64Array.from(values, (v) => push(v) + 0),
            shape,
            requiresGrad,
          ),
      );
  });
}

export {
  type ArbGraphOptions,
  arbGraph,
  checkGraph,
  type GraphCheck,
  type GraphInstruction,
  type GraphProgram,
  graphLeaves,
  graphOps,
  runGraph,
} from "./graphs.js";

// Last: marks where this entry's code ends in a bundle (see library-span.ts).
librarySpan.ends.push(new Error());
