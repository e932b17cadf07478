// The jobs part (deconv_widgets/widgets/parts/jobs.py), the job bar: one row per job of the
// `jobs` trait (Python runs every long computation of the Explorer on a worker thread as a
// job), oldest first. A row shows a <progress> (indeterminate
// while a running job's total is unknown), the label, "done/total", the state and a stop button
// (queued and running jobs only) that sends {type: "stop", job: id}. Rows are kept by job id and
// updated in place, so a button under the pointer is not replaced by a progress update. Labels
// and errors come from Python: they only ever go in through textContent and attribute values.
import { h, setData, setText } from "../lib/dom.js";
import { watch } from "../lib/widget.js";

/** @typedef {import("../lib/traits.js").JobRow} JobRow */
/** @typedef {import("@anywidget/types").AnyModel<{ jobs: JobRow[] }>} JobsModel */

/** States in which a job can still be stopped. */
const ACTIVE = new Set(["queued", "running"]);

/**
 * Whether a job is queued or running (its stop button is enabled).
 * @param {JobRow} job
 */
export function isActive(job) {
  return ACTIVE.has(job.state);
}

/**
 * "12/64", or "12/?" while the total is unknown (0).
 * @param {JobRow} job
 */
export function jobCount(job) {
  const done = Number(job.done) || 0;
  const total = Number(job.total) || 0;
  return total > 0 ? `${done}/${total}` : `${done}/?`;
}

/**
 * One row's elements; update(job) shows a new state of the same job.
 * @param {JobsModel} model
 * @param {number} id
 */
function jobRow(model, id) {
  const progress = h("progress", { class: "dw-job-progress", max: "1" });
  const label = h("span", { class: "dw-job-label", dataset: { testid: "job-label" } });
  const count = h("span", { class: "dw-count", dataset: { testid: "job-count" } });
  const state = h("span", { class: "dw-job-state", dataset: { testid: "job-state" } });
  const error = h("span", { class: "dw-job-error", dataset: { testid: "job-error" }, hidden: true });
  const stop = h("button", { type: "button", class: "dw-job-stop", dataset: { testid: "job-stop" } }, ["stop"]);
  /** whether stop was clicked while the job was in this state (cleared when the state changes) */
  let stopping = "";
  let current = "";
  stop.addEventListener("click", () => {
    if (stop.disabled) return;
    model.send(/** @satisfies {import("../lib/messages.js").StopMessage} */ ({ type: "stop", job: id }));
    stopping = current;
    stop.disabled = true;
    setText(stop, "stopping…");
  });
  const root = h("li", { class: "dw-job", dataset: { testid: "job", jobId: id } },
    [progress, label, count, state, stop, error]);
  return {
    root,
    /** @param {JobRow} job */
    update(job) {
      const total = Number(job.total) || 0;
      const done = Math.max(0, Number(job.done) || 0);
      const text = String(job.label ?? job.kind ?? "");
      setData(root, "state", job.state);
      setData(root, "jobKind", job.kind);
      setData(root, "done", done);
      setData(root, "total", total);
      root.classList.toggle("dw-finished", !isActive(job));
      if (job.state === "running" && total <= 0) {
        progress.removeAttribute("value"); // indeterminate
      } else {
        progress.max = total > 0 ? total : 1;
        progress.value = total > 0 ? Math.min(done, total) : job.state === "done" ? 1 : 0;
      }
      progress.setAttribute("aria-label", `${text}: ${job.state}`);
      if (label.textContent !== text) setText(label, text);
      setText(count, jobCount(job));
      setText(state, job.state);
      if (current !== job.state) stopping = "";
      current = job.state;
      stop.disabled = !isActive(job) || stopping !== "";
      setText(stop, stopping ? "stopping…" : "stop");
      stop.setAttribute("aria-label", `stop ${text}`);
      const failed = job.state === "failed";
      error.hidden = !failed;
      setText(error, failed ? job.error ?? "failed" : "");
    },
  };
}

/**
 * The job bar (ul[data-testid="jobs"], hidden while there is no job): one li[data-testid="job"]
 * per row of the `jobs` trait, with data-state, data-job-kind, data-job-id, data-done and
 * data-total; inside, a progress, the label ("job-label"), "done/total" ("job-count"), the state
 * ("job-state"), the stop button ("job-stop") and, for a failed job, its error ("job-error").
 * @param {JobsModel} model
 */
export function jobsPart(model) {
  const root = h("ul", { class: "dw-jobs", dataset: { testid: "jobs" }, "aria-label": "jobs" });
  /** @type {Map<number, ReturnType<typeof jobRow>>} */
  const rows = new Map();
  const stop = watch(model, ["jobs"], () => {
    const seen = new Set();
    const jobs = (model.get("jobs") || []).filter((job) => job && job.id !== undefined && job.id !== null
      && !seen.has(job.id) && seen.add(job.id));
    const ids = new Set(jobs.map((job) => job.id));
    for (const [id, row] of rows) {
      if (!ids.has(id)) {
        row.root.remove();
        rows.delete(id);
      }
    }
    jobs.forEach((job, i) => {
      let row = rows.get(job.id);
      if (!row) {
        row = jobRow(model, job.id);
        rows.set(job.id, row);
      }
      row.update(job);
      // move a row only when it is out of place (a moved button would lose its focus)
      const at = root.children[i];
      if (at !== row.root) root.insertBefore(row.root, at ?? null);
    });
    root.hidden = jobs.length === 0;
    setData(root, "active", jobs.filter(isActive).length);
  });
  return { root, stop };
}
