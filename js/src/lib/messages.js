// The custom messages between the page and Python, as JSDoc types for `tsc` (nothing here runs).
// Names and fields are those of deconv_widgets/widgets/messages.py (tests/test_contract.py
// checks both agree); an optional field is one Python has a default for. Binary payloads travel
// as the message's buffers.

// Page -> Python: the Explorer

/** @typedef {{ type: "view" }} ViewMessage a page shows the Explorer: Python may prefetch for it */

/** @typedef {{ type: "ladder" }} LadderMessage the current channel's ladder into `ladder` */

/** @typedef {{ type: "topk", k?: number }} TopKMessage the current channel's k strongest hits */

/** @typedef {{ type: "visualize" }} VisualizeMessage what the current channel wants to see */

/** @typedef {{ type: "stop", job: number }} StopMessage stop a queued or running job (an id of `jobs`) */

/** @typedef {{ type: "lenses" }} LensesMessage the Grad-CAM button */

/** @typedef {{ type: "occlusion" }} OcclusionMessage the occlusion map button */

/** @typedef {{ type: "sanity" }} SanityMessage the sanity check button */

/** @typedef {{ type: "faithfulness" }} FaithfulnessMessage the faithfulness button */

/** @typedef {{ type: "upload", name?: string, size?: number }} UploadMessage one file (its bytes: the one buffer) */

/** @typedef {{ type: "frame", shape: number[] }} FrameMessage one camera frame (RGB uint8 bytes: the one buffer) */

/** @typedef {{ type: "freeze" }} FreezeMessage keep the last camera frame as an image */

/**
 * The camera turned on or off, or failed (`message` says why).
 * @typedef {{ type: "camera", state: "on" | "off" | "error", message?: string }} CameraMessage
 */

/** @typedef {{ type: "refused", message?: string }} RefusedMessage a file the page refused, and why */

// Page -> Python: the op explainers

/** @typedef {{ type: "random" }} RandomMessage UnpoolView's "random map" button */

/**
 * GradientsPanel's Run button: its fields as typed.
 * @typedef {{ type: "run", program?: string, values_text?: string, ys_text?: string,
 *   xs_text?: string, grad_ys_text?: string, unconnected?: string }} RunMessage
 */

// Python -> page

/**
 * One prefetched projection for the page's cache ((H, W, C) float32 of `shape`: the one buffer).
 * @typedef {{ type: "prefetched", layer: string, seed: string, image: number, method: string,
 *   channel: number, shape: number[] }} PrefetchedMessage
 */

/**
 * Any message the page sends.
 * @typedef {ViewMessage | LadderMessage | TopKMessage | VisualizeMessage | StopMessage | LensesMessage
 *   | OcclusionMessage | SanityMessage | FaithfulnessMessage | UploadMessage | FrameMessage
 *   | FreezeMessage | CameraMessage | RefusedMessage | RandomMessage | RunMessage} PageMessage
 */

/** @typedef {PrefetchedMessage} PythonMessage any message Python sends */

export {};
