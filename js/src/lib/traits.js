// The traits each widget syncs with Python, as JSDoc types for `tsc` (nothing here runs). Names
// and types are those of deconv_widgets/widgets/*.py; Bytes traits arrive as DataViews.

/** @typedef {import("@anywidget/types").AnyModel} Model a model whose traits are read by name */

/** @typedef {{ shape: number[], offset: number }} PackedEntry one array of a packed float32 buffer */

/**
 * One 4-D layer of the inspector table.
 * @typedef {{ name: string, kind: string, output_shape: (number | null)[], params: number,
 *   receptive_field: number, jump: number }} LayerRow
 */

/** @typedef {{ layer?: string, seed?: string, image?: number, request?: number }} ProjectionKey */

/** @typedef {{ status: string }} StatusTraits every widget's status line */

/**
 * ProjectionWidget's traits (ChannelPicker's and DeconvView's). methods and seeds are set by
 * Python only: methods has one entry per method of deconv_widgets.methods.NAMES, in display
 * order (its name, or the key of a configured one, e.g. "lrp_epsilon(epsilon=0.1)", in its
 * place); method is one of its entries; proj_methods and the keys of proj_errors are entries.
 * @typedef {StatusTraits & { layers: LayerRow[], layer: string, channel: number, method: string,
 *   seed: string, methods: string[], seeds: string[], image: DataView, image_shape: number[],
 *   image_version: number, activations: DataView, act_shape: number[], strongest: number[],
 *   projections: DataView, proj_shape: number[], proj_methods: string[],
 *   proj_channels: number[], proj_key: ProjectionKey, proj_errors: Record<string, string>,
 *   cache_budget: number }} ProjectionTraits
 */

/**
 * One occlusion map: "channel" (no class head), or Fig. 7's "unit", "probability" and
 * "most_probable" (its classes: those that appear, most frequent first). While its job runs,
 * done of total positions are computed (the others hold the unoccluded value); state "running",
 * "done" or "stopped".
 * @typedef {PackedEntry & { kind?: string, target: string, unoccluded: number, min: number,
 *   max: number, layer?: string, channel?: number, class?: number, patch?: number, stride?: number,
 *   classes?: { class: number, name: string, count: number }[], done?: number, total?: number,
 *   state?: "running" | "done" | "stopped" }} OcclusionEntry
 */

/**
 * The lenses part's traits (widgets/parts/lenses.py); each *_index describes the arrays packed in its buffer.
 * @typedef {{ classes: string[], lens_target: number, lenses: DataView,
 *   lenses_index: (PackedEntry & { target: string, layer: string })[], lens_version: number,
 *   occlusion: DataView, occlusion_index: OcclusionEntry[], occlusion_version: number, sanity: DataView,
 *   sanity_index: (PackedEntry & { layer?: string | null, rho: number })[], sanity_version: number }} LensTraits
 */

/**
 * One method's row of the faithfulness table: its AUCs and curves, or why it cannot explain the class.
 * @typedef {{ method: string, label: string, error?: string, target: string, class: number,
 *   deletion_auc: number, insertion_auc: number, fractions: PackedEntry, deletion: PackedEntry,
 *   insertion: PackedEntry }} FaithfulnessRow
 */

/**
 * The classifier part's traits (widgets/parts/classifier.py): the top-5, the class synonyms, faithfulness.
 * @typedef {{ predictions: { class: number, name: string, probability: number }[],
 *   class_synonyms: string[], faithfulness: DataView, faithfulness_index: FaithfulnessRow[],
 *   faithfulness_version: number }} ClassifierTraits
 */

/** @typedef {{ image_index: number, n_images: number, frames: number }} OwnImagesTraits */

/**
 * One job of the Explorer (a long computation on Python's worker thread), as its job bar shows it:
 * done of total steps (total 0: unknown); error only when failed.
 * @typedef {{ id: number, kind: string, label: string, done: number, total: number,
 *   state: "queued" | "running" | "done" | "stopped" | "failed", error?: string }} JobRow
 */

/** @typedef {{ jobs: JobRow[] }} JobsTraits the Explorer's jobs, oldest first (finished ones trimmed by Python) */

/**
 * One top-k hit: where it is and the packed patch and projection.
 * @typedef {{ image: number, source?: string, y: number, x: number, value: number,
 *   patch: PackedEntry, projection: PackedEntry }} TopkHit
 */

/**
 * "What it wants": the visualisation's image entry (then its history's, kind "history").
 * @typedef {PackedEntry & { kind: string, layer?: string, channel?: number, done?: number,
 *   steps?: number, activation?: number, state?: string }} VisualizationEntry
 */

/**
 * The search part's traits (widgets/parts/search.py): the ladder, the top-k (topk_k is the k
 * its button asks for, read-only) and what the channel wants to see.
 * @typedef {{ ladder: DataView, ladder_index: (PackedEntry & { op: string, layer: string })[],
 *   topk: DataView, topk_index: TopkHit[], topk_k: number, visualization: DataView,
 *   visualization_index: VisualizationEntry[] }} SearchTraits
 */

/**
 * The Explorer's traits: the projection widget's and its parts'.
 * @typedef {ProjectionTraits & LensTraits & ClassifierTraits & OwnImagesTraits & JobsTraits
 *   & SearchTraits} ExplorerTraits
 */

/** @typedef {StatusTraits & { layers: LayerRow[] }} InspectorTraits */

/**
 * A computation graph: nodes and edges (edges through stop_gradient flagged).
 * @typedef {{ nodes?: { id: string | number, label?: string, kind?: string, op?: string }[],
 *   edges?: { source: string | number, target: string | number, stop_gradient?: boolean }[] }} Graph
 */

/**
 * GradientsPanel's traits.
 * @typedef {StatusTraits & { examples: string[], example: string, program: string,
 *   values_text: string, ys_text: string, xs_text: string, grad_ys_text: string,
 *   unconnected: string, explanation: string, graph: Graph, grads: Record<string, string>,
 *   grad_rows: [string, string][], code: string, runs: number }} GradientsTraits
 */

/** @typedef {{ data: number[], height: number, width: number, marks?: string[] }} StepGrid */

/**
 * UnpoolView's result (empty until Python has one).
 * @typedef {{ input: StepGrid, pooled: StepGrid, switches: string[][], max_unpool: StepGrid,
 *   avg_fill: StepGrid, avg_adjoint: StepGrid }} UnpoolResult
 */

/**
 * UnpoolView's traits.
 * @typedef {StatusTraits & { input_text: string, pool_size: number, stride: number,
 *   padding: string, random_seed: number, result: UnpoolResult | { input?: undefined } }} UnpoolTraits
 */

/**
 * TransposeConvView's result: the four steps, TensorFlow's output and the round trip.
 * @typedef {{ flipped_kernel: StepGrid, zero_inserted: StepGrid, padded: StepGrid,
 *   output: StepGrid, pads: [[number, number], [number, number]], tf_output: StepGrid,
 *   max_abs_diff: number, roundtrip: { x: StepGrid, back: StepGrid, best: StepGrid,
 *   recovered_fraction: number, rank: number, dimension: number, cosine: number,
 *   relative_error: number } }} TransposeResult
 */

/**
 * TransposeConvView's traits.
 * @typedef {StatusTraits & { input_text: string, kernel_text: string, stride: number,
 *   padding: string, output_size: number[], output_sizes: number[][],
 *   result: TransposeResult | { output?: undefined } }} TransposeConvTraits
 */

export {};
