/**
 * @file The page's pictures as SVG text, drawn with @tapegrad/plot: the flower with the decision regions,
 * the tape behind the cost coloured by checkBackprop's verdicts (both in the worker, where the tensors
 * are), and the cost curves (on the page).
 */
import { enableGrad, Tensor } from "@tapegrad/autograd";
import { costTensor, forwardEquations, type Params } from "@tapegrad/nn";
import { decisionRegionsSvg, graphSvg, lineChartSvg, type Series } from "@tapegrad/plot";
import type { EquationsReport, Trainer } from "./trainer.js";

/** Grid step of the decision regions (the course uses 0.01; 0.1 gives ~100 × 100 cells, redrawn live). */
const GRID_STEP = 0.1;

/** The flower (400 points coloured by label) over the classes the network gives each cell of the plane. */
export function regionsFigure(trainer: Trainer): string {
  return decisionRegionsSvg({
    points: trainer.X,
    labels: trainer.Y,
    layout: "columns",
    predict: (grid) => trainer.probabilities(grid),
    classNames: ["y = 0", "y = 1"],
    title: `Decision regions, iteration ${trainer.iteration}`,
    h: GRID_STEP,
    pad: 1,
    width: 460,
    height: 380,
  });
}

/**
 * The tape behind the course's cost J (its log formula, so A2 is a box of its own) at the current
 * parameters, each of Z2, W2, b2, Z1, W1, b1 coloured by the verdict on its gradient's equation.
 */
export function tapeFigure(trainer: Trainer, report: EquationsReport | null): string {
  const { X, Y } = trainer;
  const { activation, hiddenUnits } = trainer.settings;
  return enableGrad(() => {
    const leaf = (t: Tensor) => new Tensor(t.data, t.shape, true);
    const p = trainer.params;
    const params: Params = { W1: leaf(p.W1), b1: leaf(p.b1), W2: leaf(p.W2), b2: leaf(p.b2) };
    const { Z1, A1, Z2, A2 } = forwardEquations(X, params, activation);
    const J = costTensor(A2, Y);
    const verdicts = report
      ? Object.fromEntries(
          Object.entries(report.equations).map(([name, v]) => [
            name,
            { ok: v.status === "ok", relativeDifference: v.relativeDifference, diagnosis: v.diagnosis },
          ]),
        )
      : {};
    return graphSvg(J, {
      title: `The tape behind J (${hiddenUnits} ${activation} units): each gradient's equation, checked`,
      names: { X, Y, ...params, Z1, A1, Z2, A2, J },
      verdicts,
      hideConstants: true,
    });
  });
}

/** At most this many points per drawn curve: a long run is thinned, keeping every k-th cost. */
const MAX_POINTS = 800;

function thinned(name: string, costs: readonly number[], extra: Partial<Series>): Series {
  const stride = Math.max(1, Math.ceil(costs.length / MAX_POINTS));
  const x: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < costs.length; i += stride) {
    x.push(i);
    y.push(costs[i]!);
  }
  return { name, x, y, ...extra };
}

/**
 * The cost of the run against the iteration; with `reference` (the same controls without typos) a grey
 * dashed curve beside it, so a planted typo shows as the gap between them. NaN and ±Infinity leave gaps.
 */
export function costFigure(costs: readonly number[], reference: readonly number[] | null): string {
  const series: Series[] = [thinned("cost J", costs.length > 0 ? costs : [Number.NaN], {})];
  if (reference && reference.length > 0) {
    series.push(thinned("no typo (tape)", reference, { color: "#8a8a8a", dash: "5 4" }));
  }
  return lineChartSvg({ series, title: "Cost", xLabel: "iteration", yLabel: "J", width: 460, height: 380 });
}
