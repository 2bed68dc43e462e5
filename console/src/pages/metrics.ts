import { useEffect, useState } from 'preact/hooks';
import type uPlot from 'uplot';
import { Chart } from '../chart';
import { html } from '../html';
import { Problem, useApi } from './common';

interface Minute {
  minute: string;
  completed: number;
  failed: number;
  latencyMsP50: number | null;
  latencyMsP95: number | null;
  latencyMsP99: number | null;
}

export function MetricsPage() {
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => setTick((value) => value + 1), 10_000);
    return () => clearInterval(timer);
  }, []);
  const stats = useApi<{ minutes: Minute[] }>('/api/v1/events/stats', tick);
  const minutes = stats.data?.minutes ?? [];
  const x = minutes.map((minute) => Date.parse(minute.minute) / 1000);
  const throughput: uPlot.AlignedData = [x, minutes.map((minute) => minute.completed), minutes.map((minute) => minute.failed)];
  const latency: uPlot.AlignedData = [x, minutes.map((minute) => minute.latencyMsP50), minutes.map((minute) => minute.latencyMsP95), minutes.map((minute) => minute.latencyMsP99)];
  const failureRatio: uPlot.AlignedData = [x, minutes.map((minute) => (minute.completed + minute.failed === 0 ? null : (100 * minute.failed) / (minute.completed + minute.failed)))];
  const totals = minutes.reduce((sum, minute) => ({ completed: sum.completed + minute.completed, failed: sum.failed + minute.failed }), { completed: 0, failed: 0 });
  return html`<section>
    <h1>The last hour</h1>
    <${Problem} error=${stats.error} />
    <p class="muted">${totals.completed} completed, ${totals.failed} failed in the last 60 minutes (refreshed every 10 s).</p>
    ${minutes.length > 0 &&
    html`<div class="charts">
      <${Chart} title="Throughput (settlements per minute)" data=${throughput} series=${[{ label: 'completed', stroke: '#16a34a' }, { label: 'failed', stroke: '#dc2626' }]} />
      <${Chart} title="Latency, submission to completion (ms)" data=${latency} series=${[{ label: 'p50', stroke: '#2563eb' }, { label: 'p95', stroke: '#9333ea' }, { label: 'p99', stroke: '#ea580c' }]} />
      <${Chart} title="Failure ratio (%)" data=${failureRatio} series=${[{ label: 'failed %', stroke: '#dc2626' }]} />
    </div>`}
  </section>`;
}
