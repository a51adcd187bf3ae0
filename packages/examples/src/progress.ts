/**
 * @file Training progress: cli-progress bars showing the current cost when stdout is a terminal, plain
 * periodic lines otherwise (CI logs, pipes, tests), so that logs stay readable.
 */
import cliProgress from "cli-progress";
import type { Log } from "./main.js";

/** One training run's progress. */
export interface Progress {
  /** Iteration `i` (0-based) has cost `cost`. Cheap to call every iteration. */
  update(i: number, cost: number): void;
  /** Finish this run: fill its bar. */
  stop(): void;
}

/** Bars for several runs at once (the sweep trains some in parallel), and a log that does not break them. */
export interface ProgressGroup {
  /** A bar for a run of `total` iterations, labelled e.g. "n_h = 4". */
  add(label: string, total: number): Progress;
  /** Print a line; on a terminal it appears above the bars instead of breaking them. */
  log(line: string): void;
  /** Release the terminal (call once, at the end). */
  stop(): void;
}

/** Options of `createProgressGroup`. */
export interface ProgressOptions {
  /** Where lines go (default `console.log`). */
  log?: Log;
  /** Draw bars (default: when stdout is a TTY). */
  bar?: boolean;
  /** Without bars, print `label: iteration i/total, cost c` every this many iterations; 0 (default) never. */
  plainEvery?: number;
}

function checkTotal(total: number): void {
  if (!Number.isInteger(total) || total < 0) {
    throw new Error(`progress: total must be a non-negative integer, got ${total}`);
  }
}

/** Progress bars on a terminal, plain lines elsewhere. */
export function createProgressGroup(options: ProgressOptions = {}): ProgressGroup {
  const { log = console.log, plainEvery = 0 } = options;
  if (!(options.bar ?? process.stdout.isTTY === true)) {
    return {
      add(label, total) {
        checkTotal(total);
        return {
          update(i, cost) {
            if (plainEvery > 0 && (i + 1) % plainEvery === 0) {
              log(`${label}: iteration ${i + 1}/${total}, cost ${cost.toFixed(6)}`);
            }
          },
          stop() {},
        };
      },
      log,
      stop() {},
    };
  }
  const multibar = new cliProgress.MultiBar(
    {
      stream: process.stdout,
      format: "{label} |{bar}| {percentage}% | iteration {value}/{total} | cost {cost}",
      hideCursor: true,
      clearOnComplete: true,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
  // MultiBar redraws only on a timer, which cannot fire while a training loop holds the thread: redraw
  // ourselves (at most every 50 ms) from update(). Finished bars are removed, so the terminal keeps only the
  // logged lines; with no bar running, lines are printed directly.
  let active = 0;
  let lastDraw = 0;
  const draw = (force: boolean): void => {
    const now = Date.now();
    if (force || now - lastDraw >= 50) {
      lastDraw = now;
      multibar.update();
    }
  };
  return {
    add(label, total) {
      checkTotal(total);
      active++;
      const bar = multibar.create(total, 0, { label, cost: "…" });
      let done = false;
      return {
        update(i, cost) {
          if (done) return;
          bar.update(i + 1, { cost: cost.toFixed(6) });
          draw(false);
        },
        stop() {
          if (done) return;
          done = true;
          multibar.remove(bar);
          if (--active === 0) multibar.stop();
          else draw(true);
        },
      };
    },
    log(line) {
      if (active === 0) {
        log(line);
        return;
      }
      multibar.log(`${line}\n`);
      draw(true);
    },
    stop() {
      if (active > 0) multibar.stop();
      active = 0;
    },
  };
}
