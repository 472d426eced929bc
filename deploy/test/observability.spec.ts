// Observability as code: every metric a rule or dashboard names exists (in the code's registry, in
// the Node runtime's default metrics, or in the Kafka Exporter's), with the labels the query uses;
// every alert links a runbook section of docs/operations.md; the SLOs have burn-rate alerts.
//
// The code's metrics come from a static scan of `counter(` / `gauge(` / `histogram(` calls in libs/
// and services/ (the helpers of libs/observability that register into `metricsRegistry`), not from
// importing the modules and reading `metricsRegistry`: a module registers its metrics only when it
// is loaded, and loading every service's modules here would start their tracing SDKs and read
// their environment; the scan sees every registration, including those in code paths a test would
// not load. The Node defaults are read from prom-client itself.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { parse } from 'yaml';
import { readRepoFile, ROOT } from './support';

interface MetricDef {
  type: 'counter' | 'gauge' | 'histogram';
  labels: string[];
  file: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const full = join(dir, entry);
    if (statSync(full).isDirectory()) return entry === 'node_modules' || entry === 'test' ? [] : sourceFiles(full);
    return /\.ts$/.test(entry) && !/\.(spec|int-spec|d)\.ts$/.test(entry) ? [full] : [];
  });
}

const NAME = `'([a-zA-Z_:][\\w:]*)'`;
const HELP = `(?:'(?:[^'\\\\]|\\\\.)*'|"(?:[^"\\\\]|\\\\.)*"|\`[^\`]*\`)`;
const REGISTRATION = new RegExp(`\\b(counter|gauge|histogram)\\(\\s*${NAME}\\s*,\\s*${HELP}\\s*,\\s*\\[([^\\]]*)\\]`, 'g');

/** The metrics registered through libs/observability's helpers, by exposed series name. */
export function codeMetrics(files: { path: string; text: string }[]): Map<string, MetricDef> {
  const metrics = new Map<string, MetricDef>();
  for (const { path, text } of files) {
    for (const m of text.matchAll(REGISTRATION)) {
      const type = m[1] as MetricDef['type'];
      const labels = [...m[3].matchAll(/'([^']+)'/g)].map((l) => l[1]);
      const def = { type, labels, file: path };
      if (type === 'histogram') {
        metrics.set(`${m[2]}_bucket`, { ...def, labels: [...labels, 'le'] });
        metrics.set(`${m[2]}_sum`, def);
        metrics.set(`${m[2]}_count`, def);
      } else metrics.set(m[2], def);
    }
  }
  return metrics;
}

/** The Node runtime's metrics (collectDefaults in libs/observability), by series name. */
async function defaultMetrics(): Promise<Map<string, MetricDef>> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const text = await registry.metrics();
  const metrics = new Map<string, MetricDef>();
  for (const m of text.matchAll(/^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})?\s/gm)) {
    const labels = [...(m[2] ?? '').matchAll(/(\w+)=/g)].map((l) => l[1]);
    const existing = metrics.get(m[1]);
    metrics.set(m[1], { type: 'gauge', labels: [...new Set([...(existing?.labels ?? []), ...labels])], file: 'prom-client defaults' });
  }
  return metrics;
}

/** Metrics from outside the services, with their labels: Strimzi's Kafka Exporter (broker-side lag). */
const EXTERNAL: Record<string, MetricDef> = {
  kafka_consumergroup_lag: { type: 'gauge', labels: ['consumergroup', 'topic', 'partition'], file: 'Kafka Exporter' },
  kafka_consumergroup_members: { type: 'gauge', labels: ['consumergroup'], file: 'Kafka Exporter' },
  kafka_topic_partition_current_offset: { type: 'gauge', labels: ['topic', 'partition'], file: 'Kafka Exporter' },
};

/** Labels every scraped series carries: the registry's default label and Prometheus' target labels. */
const TARGET_LABELS = new Set(['service', 'pod', 'namespace', 'instance', 'job', 'container', 'endpoint', 'deployment']);
const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'inf',
  'nan',
]);

interface Query {
  where: string;
  expr: string;
}

/** Problems with one PromQL expression: unknown metrics, labels a metric does not have, unbalanced brackets. */
export function checkQuery(q: Query, known: Map<string, MetricDef>, recorded: Set<string>): string[] {
  const problems: string[] = [];
  const expr = q.expr.replace(/\$\{?\w+\}?/g, '5m');
  for (const [open, close] of ['()', '{}', '[]'])
    if (expr.split(open).length !== expr.split(close).length) problems.push(`${q.where}: unbalanced ${open}${close} in ${q.expr}`);
  const used: string[] = [];
  for (const m of expr.matchAll(/([a-zA-Z_:][\w:]*)\s*\{([^}]*)\}/g)) {
    const def = known.get(m[1]);
    used.push(m[1]);
    if (!def) continue;
    for (const l of m[2].matchAll(/(\w+)\s*(?:=~|!~|!=|=)/g))
      if (!def.labels.includes(l[1]) && !TARGET_LABELS.has(l[1]))
        problems.push(`${q.where}: ${m[1]} has no label ${l[1]} (it has ${def.labels.join(', ') || 'none'})`);
  }
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
  for (const m of bare.matchAll(/(?<![\w.$])([a-zA-Z_:][\w:]*)\b(?!\s*\()/g)) if (!KEYWORDS.has(m[1]) && !/^\d/.test(m[1])) used.push(m[1]);
  for (const name of used)
    if (!known.has(name) && !recorded.has(name))
      problems.push(`${q.where}: metric ${name} is not in the code's registry, the runtime's defaults or the Kafka Exporter`);
  const labelsInExpr = new Set(used.flatMap((n) => known.get(n)?.labels ?? []));
  for (const m of expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g))
    for (const label of m[1]
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean))
      if (!labelsInExpr.has(label) && !TARGET_LABELS.has(label) && !used.some((n) => recorded.has(n)))
        problems.push(`${q.where}: grouping by ${label}, which none of its metrics has`);
  return problems;
}

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  annotations?: Record<string, string>;
}
interface PrometheusRuleDoc {
  spec: { groups: { name: string; rules: Rule[] }[] };
}

const MONITORING = 'deploy/components/monitoring';
const ruleDoc = parse(readRepoFile(`${MONITORING}/prometheusrule.yaml`)) as PrometheusRuleDoc;
const rules = ruleDoc.spec.groups.flatMap((g) => g.rules);
const dashboardFiles = readdirSync(join(ROOT, MONITORING, 'dashboards')).filter((f) => f.endsWith('.json'));
const dashboards = dashboardFiles.map((f) => ({
  file: f,
  json: JSON.parse(readRepoFile(`${MONITORING}/dashboards/${f}`)) as {
    uid: string;
    title: string;
    panels: { title: string; targets: { expr: string }[] }[];
  },
}));

function queries(): Query[] {
  return [
    ...rules.map((r) => ({ where: `rule ${r.alert ?? r.record}`, expr: r.expr })),
    ...dashboards.flatMap((d) => d.json.panels.flatMap((p) => p.targets.map((t) => ({ where: `${d.file} "${p.title}"`, expr: t.expr })))),
  ];
}

/** GitHub's anchor of a Markdown heading. */
const anchor = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\w\s-]/g, '')
    .replace(/\s/g, '-');

let known: Map<string, MetricDef>;
const recorded = new Set(rules.filter((r) => r.record).map((r) => r.record!));
const scanned = [...sourceFiles(join(ROOT, 'libs')), ...sourceFiles(join(ROOT, 'services'))].map((f) => ({
  path: relative(ROOT, f),
  text: readFileSync(f, 'utf8'),
}));

beforeAll(async () => {
  known = new Map([...(await defaultMetrics()), ...Object.entries(EXTERNAL), ...codeMetrics(scanned)]);
});

describe("the code's metric registry", () => {
  test('the scan finds the metrics of the libraries and of every service (a scan that finds nothing would pass anything)', () => {
    const code = codeMetrics(scanned);
    for (const name of [
      'http_request_duration_seconds_bucket',
      'kafka_consumed_records_total',
      'outbox_pending_records',
      'webhook_requests_total',
      'gateway_holds_active',
      'scheduler_agency_events_rejected_total',
      'templates_submissions_total',
      'chatbot_turns_total',
    ])
      expect([name, code.has(name)]).toEqual([name, true]);
    expect(code.get('gateway_cloud_api_errors_total')?.labels).toEqual(['code', 'action']);
    expect(known.has('process_resident_memory_bytes')).toBe(true);
  });

  test('every metric registration is seen by the scan', () => {
    // A registration the regular expression cannot read (a computed name, help in backquotes) would
    // silently drop out of the check: count the calls and compare.
    const calls = scanned.flatMap((f) =>
      [...f.text.matchAll(/\b(?:counter|gauge|histogram)\(\s*['"`]/g)].map(() => f.path).filter((p) => !p.startsWith('libs/observability')),
    );
    const read = scanned.flatMap((f) => [...f.text.matchAll(REGISTRATION)].map(() => f.path));
    expect(read.length).toBe(calls.length);
  });
});

describe('rules and dashboards name only metrics that exist', () => {
  test('every query', () => {
    expect(queries().flatMap((q) => checkQuery(q, known, recorded))).toEqual([]);
  });

  test.each([
    ['a misspelt metric', 'sum(rate(webhook_request_total[5m]))', /metric webhook_request_total is not in/],
    ['a label the metric does not have', 'sum(rate(gateway_cloud_api_errors_total{error_code="131047"}[5m]))', /has no label error_code/],
    ['grouping by a label no metric has', 'sum by (tenant) (gateway_holds_active)', /grouping by tenant/],
    [
      'a histogram used without its series suffix',
      'histogram_quantile(0.99, rate(gateway_cloud_api_call_seconds[5m]))',
      /gateway_cloud_api_call_seconds is not in/,
    ],
    ['unbalanced parentheses', 'sum(rate(webhook_requests_total[5m])', /unbalanced \(\)/],
    ['a metric nobody registers', 'max(outbox_lost_records)', /outbox_lost_records is not in/],
  ])('catches %s', (_what, expr, expected) => {
    const problems = checkQuery({ where: 'test', expr }, known, recorded);
    expect(problems.some((p) => expected.test(p))).toBe(true);
  });
});

describe('alerts', () => {
  const alerts = rules.filter((r) => r.alert);
  const headings = new Set(
    [...readRepoFile('docs/operations.md').matchAll(/^#{2,4}\s+(.+)$/gm)].map((m) => anchor(m[1].replace(/`/g, ''))),
  );

  test('every alert links its runbook section in docs/operations.md', () => {
    const missing = alerts
      .map((a) => ({ alert: a.alert!, url: a.annotations?.runbook_url ?? '' }))
      .filter(({ url }) => !/docs\/operations\.md#/.test(url) || !headings.has(url.split('#')[1]));
    expect(missing).toEqual([]);
  });

  test('a runbook link to a section that does not exist is caught', () => {
    expect(headings.has('wadoesnotexist')).toBe(false);
    expect(headings.has(anchor(alerts[0].alert!))).toBe(true);
  });

  test('covers what operators must hear about', () => {
    const names = alerts.map((a) => a.alert);
    expect(names).toEqual(
      expect.arrayContaining([
        'WaConsumerLagHigh',
        'WaDeadLetterGrowth',
        'WaOutboxBacklog',
        'WaOutboxStalled',
        'WaOutboxParked',
        'WaConsumersWaiting',
        'WaWebhookServerErrors',
        'WaWebhookUnauthorized',
        'WaWebhookLatencyP99',
        'WaGatewayHold',
        'WaCloudApiErrors',
        'WaSchedulerBacklog',
        'WaNoticesPastDeadline',
        'WaAgencyEventsRejected',
        'WaTemplateRejectedOrPaused',
      ]),
    );
  });

  test.each(['webhook_acceptance', 'notice_delivery'])(
    'SLO %s: error ratios over every burn-rate window and a fast and a slow burn alert',
    (slo) => {
      for (const w of ['5m', '30m', '1h', '2h', '6h', '1d', '3d']) expect(recorded.has(`wa:${slo}:error_ratio_rate${w}`)).toBe(true);
      const burn = alerts.filter((a) => a.expr.includes(`wa:${slo}:`));
      expect(burn.map((a) => a.alert).sort()).toEqual([expect.stringMatching(/BurnFast$/), expect.stringMatching(/BurnSlow$/)]);
    },
  );

  test('lag alerts read the brokers (Kafka Exporter), not the consumers, which report nothing when they are down', () => {
    const lag = alerts.filter((a) => /lag/i.test(a.expr));
    expect(lag.length).toBeGreaterThan(0);
    for (const a of lag) expect(a.expr).not.toMatch(/kafka_consumer_lag\b/);
  });
});

describe('dashboards', () => {
  test('one per service and one for an agency, each with a unique uid', () => {
    expect(dashboardFiles.sort()).toEqual(
      [
        'agency.json',
        'chatbot.json',
        'handoff-router.json',
        'notification-scheduler.json',
        'outbound-gateway.json',
        'template-registry.json',
        'webhook-ingress.json',
      ].sort(),
    );
    expect(new Set(dashboards.map((d) => d.json.uid)).size).toBe(dashboards.length);
  });

  test('the monitoring component ships every dashboard file', () => {
    const kustomization = readRepoFile(`${MONITORING}/kustomization.yaml`);
    for (const f of dashboardFiles) expect(kustomization).toContain(`dashboards/${f}`);
  });
});
