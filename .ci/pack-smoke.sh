#!/usr/bin/env bash
# Pack @tapegrad/autograd and @tapegrad/nn, install the tarballs with npm into a temp project outside the
# workspace, and run a plain node script (no tsx) that imports both and checks a gradient's value.
set -euo pipefail
cd "$(dirname "$0")/.."
PNPM="npx -y pnpm@10"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd packages/autograd && $PNPM pack --pack-destination "$tmp" >/dev/null)
(cd packages/nn && $PNPM pack --pack-destination "$tmp" >/dev/null)
(cd packages/plot && $PNPM pack --pack-destination "$tmp" >/dev/null)
mkdir "$tmp/consumer"
cd "$tmp/consumer"
npm init -y >/dev/null
npm pkg set type=module >/dev/null
npm install --no-audit --no-fund --loglevel=error "$tmp"/tapegrad-autograd-*.tgz "$tmp"/tapegrad-nn-*.tgz "$tmp"/tapegrad-plot-*.tgz
cat > smoke.mjs <<'JS'
import { tensor, tanh, sum, mul } from "@tapegrad/autograd";
import * as nn from "@tapegrad/nn";
import { lineChartSvg } from "@tapegrad/plot";
const x = tensor([0.5, -1.25], { requiresGrad: true });
sum(mul(tanh(x), x)).backward();
// d/dx x·tanh x = tanh x + x (1 − tanh² x)
const expected = [0.5, -1.25].map((v) => Math.tanh(v) + v * (1 - Math.tanh(v) ** 2));
const got = Array.from(x.grad.data);
for (let i = 0; i < 2; i++) {
  if (Math.abs(got[i] - expected[i]) > 1e-14) throw new Error(`gradient ${got} != ${expected}`);
}
if (Object.keys(nn).length === 0) throw new Error("@tapegrad/nn exports nothing");
const svg = lineChartSvg({ series: [{ name: "cost", y: [3, 2, 1] }] });
if (!svg.startsWith("<svg")) throw new Error("@tapegrad/plot: lineChartSvg did not return an SVG");
console.log(`packaging smoke test: gradient ${got.map((v) => v.toFixed(12)).join(", ")} ok; @tapegrad/nn exports ${Object.keys(nn).length} names`);
JS
node smoke.mjs
