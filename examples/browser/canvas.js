// Shared canvas set-up for the page's drawings.

export const FONT = '12px system-ui, sans-serif';

/** Sizes the canvas backing store to its CSS box times the device pixel ratio. */
export function prepare(canvas) {
  const ratio = window.devicePixelRatio || 1;
  const { width, height } = canvas.getBoundingClientRect();
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  const g = canvas.getContext('2d');
  g.setTransform(ratio, 0, 0, ratio, 0, 0);
  return { g, width, height };
}
