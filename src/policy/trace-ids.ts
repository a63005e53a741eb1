/**
 * What counts as a trace id in free text: `trace-` and at least one more segment holding a digit, as in the
 * seed's `trace-ord-8128`. Words such as `trace-logging` or `trace-check` are prose, not trace ids.
 */
export const TRACE_ID_PATTERN = /(?<![\w-])trace-(?=[\w-]*\d)[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*(?![\w-])/g;
