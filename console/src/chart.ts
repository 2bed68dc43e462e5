/**
 * A uPlot chart as a Preact component. Chart coordinates are numbers by nature (pixels); every amount shown as
 * text (axis ticks and the legend included) is formatted by the page from the API's decimal strings.
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { html } from './html';

export interface ChartProps {
  readonly title: string;
  /** x: epoch seconds; then one array per series. */
  readonly data: uPlot.AlignedData;
  readonly series: readonly { label: string; stroke: string }[];
  readonly yLabel?: string;
  /** How to write a y value (defaults to uPlot's). */
  readonly formatY?: (value: number) => string;
  readonly stepped?: boolean;
}

export function Chart(props: ChartProps) {
  const element = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!element.current) return;
    const width = Math.max(320, element.current.clientWidth || 640);
    const format = props.formatY;
    const plot = new uPlot(
      {
        title: props.title,
        width,
        height: 220,
        scales: { x: { time: true } },
        axes: [{}, { label: props.yLabel, size: 110, ...(format && { values: (_: uPlot, ticks: number[]) => ticks.map(format) }) }],
        series: [{}, ...props.series.map((series) => ({ label: series.label, stroke: series.stroke, width: 2, ...(props.stepped && { paths: uPlot.paths.stepped!({ align: 1 }) }), ...(format && { value: (_: uPlot, value: number | null) => (value === null ? '—' : format(value)) }) }))],
      },
      props.data,
      element.current,
    );
    return () => plot.destroy();
  }, [props.data, props.title]);
  return html`<figure class="chart" aria-label=${props.title} ref=${element}></figure>`;
}
