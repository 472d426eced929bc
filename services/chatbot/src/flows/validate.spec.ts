import type { FlowDefinition, FlowProblem, MenuNode } from './flow.types';
import { fixtureFlow } from './testing';
import { validateFlow } from './validate';

const base = fixtureFlow();

function variant(change: (f: FlowDefinition) => void): FlowProblem[] {
  const f = structuredClone(base);
  change(f);
  return validateFlow(f);
}

function menu(f: FlowDefinition, id = 'main'): MenuNode {
  return f.nodes[id] as MenuNode;
}

const options = (n: number, title = (i: number) => `Opción ${i}`) =>
  Array.from({ length: n }, (_, i) => ({ id: `o${i + 1}`, title: { es: title(i + 1), ar: `خيار ${i + 1}` }, goto: 'report_photo' }));

describe('validateFlow', () => {
  it('finds nothing wrong in the fixture', () => {
    expect(validateFlow(base)).toEqual([]);
  });

  it.each<[string, (f: FlowDefinition) => void, string]>([
    [
      'a node goto',
      (f) => ((f.nodes.welcome as { goto: string }).goto = 'nowhere'),
      'node welcome: goto goes to "nowhere", which is no node',
    ],
    [
      'a branch',
      (f) => ((f.nodes.report_confirm as { goto: { goto: string }[] }).goto[0].goto = 'nowhere'),
      'node report_confirm: goto[0] goes to "nowhere"',
    ],
    ['an option', (f) => (menu(f).options[0].goto = 'nowhere'), 'node main: option report goto goes to "nowhere"'],
    ['no_match.then', (f) => (menu(f, 'report_kind').no_match!.then = 'nowhere'), 'node report_kind: no_match.then goes to "nowhere"'],
    [
      'retry.then',
      (f) => ((f.nodes.report_where as { retry: { then: string } }).retry.then = 'nowhere'),
      'node report_where: retry.then goes to "nowhere"',
    ],
    [
      'skip.goto',
      (f) => ((f.nodes.report_photo as { skip: { goto?: string } }).skip.goto = 'nowhere'),
      'node report_photo: skip.goto goes to "nowhere"',
    ],
    [
      'timeout.goto',
      (f) => ((f.nodes.status_ask as { timeout: { goto: string } }).timeout.goto = 'nowhere'),
      'node status_ask: timeout.goto goes to "nowhere"',
    ],
    [
      'on_error',
      (f) => ((f.nodes.status_call as { on_error: string }).on_error = 'nowhere'),
      'node status_call: on_error goes to "nowhere"',
    ],
    [
      'else',
      (f) => Object.assign(f.nodes.welcome, { when: { var: 'x', exists: true }, else: 'nowhere' }),
      'node welcome: else goes to "nowhere"',
    ],
    ['a global keyword', (f) => f.global!.push({ match: { es: ['x'], ar: ['x'] }, goto: 'nowhere' }), 'global[5].goto goes to "nowhere"'],
    ['a template button', (f) => (f.template_buttons![0].goto = 'nowhere'), 'template_buttons[0].goto goes to "nowhere"'],
    ['an FAQ entry', (f) => (f.faq![0].goto = 'nowhere'), 'faq hours goto goes to "nowhere"'],
    ['start', (f) => (f.start = 'nowhere'), 'start goes to "nowhere"'],
  ])('unresolved goto in %s', (_, change, message) => {
    const problems = variant(change);
    expect(problems.filter((p) => p.code === 'unresolved_goto').map((p) => p.message)).toEqual([expect.stringContaining(message)]);
  });

  it('unreachable node', () => {
    const problems = variant((f) => (f.nodes.orphan = { type: 'end', text: { es: 'Adiós', ar: 'وداعا' } }));
    expect(problems).toEqual([
      expect.objectContaining({
        code: 'unreachable',
        node: 'orphan',
        message: 'node orphan: is unreachable from start, the menu, global keywords and template buttons',
      }),
    ]);
  });

  it('a node reached only by a template button or the language keyword is reachable', () => {
    const problems = variant((f) => {
      f.template_buttons![0].goto = 'only_by_button';
      f.nodes.only_by_button = { type: 'end', text: { es: 'x', ar: 'x' } };
      f.nodes.lang = { type: 'language', text: { es: 'Idioma', ar: 'اللغة' } };
    });
    expect(problems.filter((p) => p.code === 'unreachable')).toEqual([]);
  });

  it.each<[string, (f: FlowDefinition) => void, string, string]>([
    ['a message without goto', (f) => delete (f.nodes.welcome as { goto?: unknown }).goto, 'welcome', 'neither waits nor goes anywhere'],
    [
      'a case without goto',
      (f) => delete (f.nodes.report_case as { goto?: unknown }).goto,
      'report_case',
      'neither waits nor goes anywhere',
    ],
    ['branches without a default', (f) => (f.nodes.report_confirm as { goto: unknown[] }).goto.pop(), 'report_confirm', 'no default'],
    ['when without else on a menu', (f) => (menu(f).when = { var: 'x', exists: true }), 'main', '"when" without "else"'],
    [
      'a loop that never waits',
      (f) => ((f.nodes.status_open as { goto: string }).goto = 'status_call'),
      'status_call',
      'loops without waiting',
    ],
  ])('dead end: %s', (_, change, node, message) => {
    const problems = variant(change).filter((p) => p.code === 'dead_end');
    expect(problems).toEqual([expect.objectContaining({ node, message: expect.stringContaining(message) })]);
  });

  it('missing translations: every text in every flow language, with node and language', () => {
    const problems = variant((f) => {
      delete menu(f).options[1].title.ar;
      delete (f.nodes.bye as { text: Record<string, string> }).text.ar;
      f.faq![0].questions = { es: ['horario'] };
      f.global![0].match.ar = [];
    });
    expect(problems.map((p) => [p.code, p.message])).toEqual([
      ['missing_translation', 'global.1.match has no ar text'],
      ['missing_translation', 'faq.hours.questions has no ar text'],
      ['missing_translation', 'node main (ar): main.option.status has no ar text'],
      ['missing_translation', 'node bye (ar): bye.text has no ar text'],
    ]);
    expect(problems[2]).toMatchObject({ node: 'main', language: 'ar', path: 'nodes.main.options[1].title.ar' });
  });

  it('an empty text is missing too; a language the flow does not have is reported', () => {
    const problems = variant((f) => {
      (f.nodes.bye as { text: Record<string, string> }).text.ar = '  ';
      (f.nodes.bye as { text: Record<string, string> }).text.fr = 'Merci';
    });
    expect(problems.map((p) => p.message)).toEqual([
      'node bye (ar): bye.text has no ar text',
      "node bye (fr): bye.text has a fr text but the flow's languages are es, ar",
    ]);
  });

  describe("WhatsApp's limits", () => {
    it('reply button title over 20 characters, counting the emoji prefix', () => {
      // 18 characters of title + emoji + space = 20: fits; 19 + 2 = 21 does not.
      const fits = variant((f) => (menu(f).options[0].title.es = 'x'.repeat(18)));
      expect(fits).toEqual([]);
      const problems = variant((f) => (menu(f).options[0].title.es = 'x'.repeat(19)));
      expect(problems).toEqual([
        expect.objectContaining({
          code: 'too_long',
          node: 'main',
          language: 'es',
          message: `node main (es): button title (option report) "🚧 ${'x'.repeat(19)}" has 21 characters; WhatsApp allows 20`,
        }),
      ]);
    });

    it('counts characters, not UTF-16 units: 20 emoji fit a button title', () => {
      const problems = variant((f) => {
        delete menu(f).options[0].emoji;
        menu(f).options[0].title.es = '😀'.repeat(20);
      });
      expect(problems).toEqual([]);
    });

    it('placeholders count as empty: only static text is flagged', () => {
      expect(variant((f) => (menu(f).options[0].title.es = 'Hola {{contact.name}} 123456'))).toEqual([]);
    });

    it('duplicate button titles in one message (case-insensitive)', () => {
      const problems = variant((f) => {
        menu(f).options[1].title.ar = 'الإبلاغ عن حفرة';
        menu(f).options[1].emoji = '🚧';
      });
      expect(problems.map((p) => p.message)).toEqual([
        expect.stringContaining('node main (ar): options report and status have the same button title'),
      ]);
    });

    it('button body over 1,024 with its numbered options', () => {
      const problems = variant((f) => (menu(f).text.es = 'x'.repeat(1000)));
      expect(problems.map((p) => p.message)).toEqual([
        expect.stringMatching(/^node main \(es\): text with its numbered options "x+…" has 1071 characters; WhatsApp allows 1024$/),
      ]);
    });

    it('list row title over 24, description over 72, header and footer over 60, button label over 20', () => {
      const problems = variant((f) => {
        const m = menu(f, 'report_kind');
        m.options[0].title.es = 'y'.repeat(25);
        m.options[3].description!.ar = 'd'.repeat(73);
        m.header!.es = 'h'.repeat(61);
        m.footer = { es: 'f'.repeat(61), ar: 'f' };
        m.button!.ar = 'b'.repeat(21);
      });
      expect(problems.map((p) => p.message)).toEqual([
        expect.stringMatching(/^node report_kind \(es\): header "h+…" has 61 characters; WhatsApp allows 60$/),
        expect.stringMatching(/^node report_kind \(es\): footer "f+…" has 61 characters; WhatsApp allows 60$/),
        expect.stringMatching(/^node report_kind \(es\): list row title \(option pothole\) "y+" has 25 characters; WhatsApp allows 24$/),
        expect.stringMatching(/^node report_kind \(ar\): list button label "b+" has 21 characters; WhatsApp allows 20$/),
        expect.stringMatching(
          /^node report_kind \(ar\): list row description \(option flood\) "d+…" has 73 characters; WhatsApp allows 72$/,
        ),
      ]);
    });

    it('list body over 4,096', () => {
      const problems = variant((f) => (menu(f, 'report_kind').text.ar = 'ع'.repeat(4090)));
      expect(problems.map((p) => p.message)).toEqual([
        expect.stringMatching(/^node report_kind \(ar\): list text with its numbered options .* WhatsApp allows 4096$/),
      ]);
    });

    it('a list needs its button label', () => {
      const problems = variant((f) => delete menu(f, 'report_kind').button);
      expect(problems.map((p) => p.message)).toEqual([
        'node report_kind (es): a menu of 5 options is a list and needs "button" (the list button\'s label)',
        'node report_kind (ar): a menu of 5 options is a list and needs "button" (the list button\'s label)',
      ]);
    });

    it('CTA label over 20 and text over 1,024 above it', () => {
      const problems = variant((f) => {
        const n = f.nodes.status_closed as { text: Record<string, string>; button: { label: Record<string, string> } };
        n.button.label.es = 'Ver todos los detalles';
        n.text.ar = 'ن'.repeat(1025);
      });
      expect(problems.map((p) => p.message)).toEqual([
        'node status_closed (es): button label "Ver todos los detalles" has 22 characters; WhatsApp allows 20',
        expect.stringMatching(/^node status_closed \(ar\): text above the button .* has 1025 characters; WhatsApp allows 1024$/),
      ]);
    });

    it('text over 4,096 and a media caption over 1,024', () => {
      const problems = variant((f) => {
        (f.nodes.bye as { text: Record<string, string> }).text.es = 'z'.repeat(4097);
        f.nodes.welcome = {
          ...f.nodes.welcome,
          media: { kind: 'image', link: 'https://vias.example.gov/logo.png' },
        } as FlowDefinition['nodes'][string];
        (f.nodes.welcome as { text: Record<string, string> }).text.ar = 'ص'.repeat(1025);
      });
      expect(problems.map((p) => p.message)).toEqual([
        expect.stringMatching(/^node welcome \(ar\): caption .* has 1025 characters; WhatsApp allows 1024$/),
        expect.stringMatching(/^node bye \(es\): text .* has 4097 characters; WhatsApp allows 4096$/),
      ]);
    });

    it('an option id over 256 characters', () => {
      const problems = variant((f) => (menu(f).options[0].id = 'i'.repeat(257)));
      expect(problems.map((p) => p.message)).toEqual([`node main: option id ${'i'.repeat(257)} has 257 characters; WhatsApp allows 256`]);
    });
  });

  it('more than 10 options', () => {
    const problems = variant((f) => (menu(f, 'report_kind').options = options(11)));
    expect(problems).toEqual([
      expect.objectContaining({
        code: 'too_many_options',
        node: 'report_kind',
        message: 'node report_kind: 11 options; WhatsApp allows 10 (split the menu)',
      }),
    ]);
  });

  it('ten options fit a list', () => {
    expect(variant((f) => (menu(f, 'report_kind').options = options(10)))).toEqual([]);
  });

  it.each<[string, (f: FlowDefinition) => void, string]>([
    [
      'an ask timeout past 24 h',
      (f) => ((f.nodes.status_ask as { timeout: { after: string } }).timeout.after = '25h'),
      'node status_ask: timeout "25h" is past the 24-hour customer service window',
    ],
    ['expire_after past 24 h', (f) => (f.expire_after = '2d'), 'expire_after "2d" is past the 24-hour customer service window'],
    ['a zero duration', (f) => (f.expire_after = '0m'), 'expire_after "0m" is no duration'],
  ])('bad duration: %s', (_, change, message) => {
    expect(variant(change).map((p) => [p.code, p.message])).toEqual([['bad_duration', expect.stringContaining(message)]]);
  });

  it('duplicate option ids', () => {
    const problems = variant((f) => (menu(f, 'report_kind').options[1].id = 'pothole'));
    expect(problems).toEqual([
      expect.objectContaining({
        code: 'duplicate_id',
        node: 'report_kind',
        message: 'node report_kind: option id "pothole" is used twice',
      }),
    ]);
  });

  it('a bad regex pattern', () => {
    const problems = variant((f) => ((f.nodes.status_ask as { validate: { pattern: string } }).validate.pattern = '^RD-(\\d{4}'));
    expect(problems).toEqual([
      expect.objectContaining({
        code: 'bad_pattern',
        node: 'status_ask',
        message: expect.stringContaining('node status_ask: validate.pattern "^RD-(\\d{4}" is no valid regular expression'),
      }),
    ]);
  });

  it('the agent action needs a default department', () => {
    const problems = variant((f) => delete f.default_department);
    expect(problems.map((p) => p.message)).toEqual([
      'max_fallbacks hands off to an agent but the flow has no default_department',
      'global[2] hands off to an agent but the flow has no default_department',
      'template_buttons[1] hands off to an agent but the flow has no default_department',
      'node main: option agent hands off to an agent but the flow has no default_department',
    ]);
  });

  it('a global keyword that is a consent keyword, or another rule’s', () => {
    const problems = variant((f) => {
      f.global![1].match.es.push('baja');
      f.global![2].match.es.push('Menu');
    });
    expect(problems.map((p) => [p.code, p.message])).toEqual([
      ['keyword_conflict', 'global[1] keyword "baja" (es) is a consent keyword (opt_out): it never reaches the flow'],
      ['keyword_conflict', 'global[2] keyword "Menu" (es) is global[0]\'s too: the first rule wins'],
    ]);
  });

  it('an option whose title is a global keyword doing something else', () => {
    const problems = variant((f) => {
      menu(f, 'report_kind').options[4].title.es = 'Menú';
      menu(f).options[2].title.ar = 'موظف';
    });
    expect(problems.map((p) => [p.code, p.message])).toEqual([
      [
        'keyword_conflict',
        'node report_kind (es): option other\'s title "Menú" is a keyword of global[0], which does something else when typed',
      ],
    ]);
  });

  it('two list rows with the same title', () => {
    const problems = variant((f) => (menu(f, 'report_kind').options[4].title.ar = 'إنارة'));
    expect(problems.map((p) => [p.code, p.message])).toEqual([
      ['duplicate_id', 'node report_kind (ar): options light and other have the same title "إنارة"'],
    ]);
  });

  it('an FAQ question that finds another entry, or none', () => {
    const problems = variant((f) => {
      f.faq![1].questions.es.push('Horario de atención');
      f.faq![1].questions.ar.push('ساعات العمل');
      f.faq![0].questions.ar.push('ما هو');
    });
    expect(problems.map((p) => [p.code, p.message])).toEqual([
      ['faq_unmatched', 'faq hours: the question "horario de atención" (es) is also a question of entry cost'],
      [
        'faq_unmatched',
        'faq hours: the question "ما هي ساعات العمل" (ar) is as close to entry cost (the entries\' questions are too alike)',
      ],
      ['faq_unmatched', 'faq hours: the question "ما هو" (ar) finds no entry (too short, or only common words)'],
      ['faq_unmatched', 'faq cost: the question "Horario de atención" (es) is also a question of entry hours'],
      ['faq_unmatched', 'faq cost: the question "ساعات العمل" (ar) is as close to entry hours (the entries\' questions are too alike)'],
    ]);
  });

  it('a value nothing saves (a typo in {{…}}, a condition, a case field or a call input)', () => {
    const problems = variant((f) => {
      (f.nodes.report_case as { text: Record<string, string> }).text.es = 'Su reporte es {{case.referense}}.';
      (f.nodes.report_case as { fields: string[] }).fields.push('report.sinse');
      (f.nodes.status_call as { input: Record<string, string> }).input.reference = '{{query.ref}}';
      (f.nodes.report_confirm as { goto: { if?: { var: string } }[] }).goto[0].if!.var = 'report.confirm';
    });
    expect(problems.map((p) => [p.code, p.message])).toEqual([
      ['unknown_value', 'node report_case: report_case.text {{case.referense}} uses "case.referense", which nothing in the flow saves'],
      ['unknown_value', 'node report_confirm: a goto branch uses "report.confirm", which nothing in the flow saves'],
      ['unknown_value', 'node report_case: fields uses "report.sinse", which nothing in the flow saves'],
      ['unknown_value', 'node status_call: input reference uses "query.ref", which nothing in the flow saves'],
    ]);
  });

  it('values under a call’s answer, saved objects and contact.name are known', () => {
    const problems = variant((f) => {
      (f.nodes.status_open as { text: Record<string, string> }).text.es =
        '{{contact.name}}: {{status.detail.eta}} {{report}} {{session.language}}';
    });
    expect(problems).toEqual([]);
  });

  it('a per-language media link that is not https', () => {
    const problems = variant((f) => {
      f.nodes.welcome = {
        ...f.nodes.welcome,
        media: { kind: 'document', link: { es: 'https://x.example/a.pdf', ar: 'ftp://x.example/a.pdf' } },
      } as FlowDefinition['nodes'][string];
    });
    expect(problems.map((p) => [p.code, p.message])).toEqual([
      ['bad_link', 'node welcome (ar): media link "ftp://x.example/a.pdf" is no https URL'],
    ]);
  });

  it('lists every problem at once', () => {
    const problems = variant((f) => {
      (f.nodes.welcome as { goto: string }).goto = 'nowhere';
      delete (f.nodes.bye as { text: Record<string, string> }).text.ar;
      menu(f, 'report_kind').options = options(12);
      f.expire_after = '48h';
    });
    expect(new Set(problems.map((p) => p.code))).toEqual(
      new Set(['unresolved_goto', 'missing_translation', 'too_many_options', 'bad_duration']),
    );
  });
});
