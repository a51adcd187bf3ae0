/** @file Anomaly mode on a page: the messages go to `window.anomalyResult` (read by test/browser-anomaly.test.ts). */
import { anomalyMessages } from "./user-code.js";

declare global {
  interface Window {
    anomalyResult?: { forward: string; backward: string; error?: string };
  }
}

try {
  window.anomalyResult = anomalyMessages();
} catch (e) {
  window.anomalyResult = { forward: "", backward: "", error: String(e) };
}
document.getElementById("result")!.textContent = JSON.stringify(window.anomalyResult, null, 2);
