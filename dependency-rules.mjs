// Who may import whom in kiln: DESIGN.md's "The house", checked by dependency-cruiser in `npm test`
// (test/architecture.test.ts) and by `npm run rules`. Each rule's `comment` is what you read when
// it fires. Only the product is checked (src/ and machines/); tests and scripts may import anything.
// An area may always import its own files. Type-only imports count, except where a rule says so.
//
//   cli → engine → (machines, scaleway, ssh, provision, store)
//   gc → (scaleway, store), and what it still takes from engine (named in its rule)
//   cli → ui → (report, view, store, gc's planning);  cli → report → view → store
//   view:     how a build reads to a person (sentences, times, timeline, fates, status, next steps),
//             shared by the CLI, the report and the UI; drives nothing
//   template: used by cli, engine and gc; depends on nothing of ours (but the two noted below)
//   shared:   small helpers any area but the simulator may use; imports nothing of ours
//   sim:      a separate world; only `kiln sim` and `kiln build --sim` start it

const ours = '^(src|machines)/';

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'no-cycle',
      severity: 'error',
      comment:
        'This import closes an import cycle (dynamic and type-only imports count). Move what both sides need ' +
        'into a module of its own that imports neither of them.',
      from: { path: ours },
      to: { circular: true },
    },
    {
      name: 'machines-are-pure',
      severity: 'error',
      comment:
        'machines/ holds pure XState definitions: they import xstate, each other and types (`import type`), ' +
        'nothing that runs — no node: module, no other package, no code of src/. Do the work in an engine ' +
        'actor and hand the machine its result as input or an event.',
      from: { path: '^machines/' },
      to: { pathNot: '^machines/|node_modules/xstate/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'only-main-imports-the-cli',
      severity: 'error',
      comment:
        'src/cli is the top of the house: src/cli/main.ts starts it and nothing outside src/cli imports it ' +
        '(the engine, gc and the rest never reach up). Move what you need to the area that owns it and let ' +
        'the CLI import it from there.',
      from: { path: ours, pathNot: '^src/cli/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'engine-drives-the-layers-below',
      severity: 'error',
      comment:
        'src/engine imports machines/, src/scaleway, src/ssh, src/provision, src/store, src/template and ' +
        'src/shared — never src/gc or the simulator. Whoever needs both (the CLI) imports both.',
      from: { path: '^src/engine/' },
      // src/cli is left to only-main-imports-the-cli, so that an import of it is reported once.
      to: { path: ours, pathNot: '^(machines/|src/(engine|scaleway|ssh|provision|store|template|shared|cli)/)' },
    },
    {
      name: 'gc-works-on-the-client-and-the-store',
      severity: 'error',
      comment:
        'src/gc imports src/scaleway, src/store, src/template (credentials, durations) and src/shared only. ' +
        'Known exceptions, to move out of src/engine: its tag names (tags.ts), the temporary key files ' +
        '(keys.ts) and the test crash points (crash.ts). Add no other.',
      from: { path: '^src/gc/' },
      to: {
        path: ours,
        pathNot: '^(src/(gc|scaleway|store|template|shared)/|src/engine/(tags|keys|crash)\\.ts$)',
      },
    },
    {
      name: 'provision-works-over-the-communicator',
      severity: 'error',
      comment:
        'src/provision runs provisioners over the communicator: it imports src/ssh, src/template (the ' +
        'provisioner specs) and src/shared only.',
      from: { path: '^src/provision/' },
      to: { path: ours, pathNot: '^src/(provision|ssh|template|shared)/' },
    },
    {
      name: 'client-and-communicator-stand-alone',
      severity: 'error',
      comment:
        'src/scaleway (the API client) and src/ssh (the communicator) import nothing of ours but src/shared, ' +
        'and not each other: what both need (sleep, backoff) lives in src/shared.',
      from: { path: '^src/(scaleway|ssh)/' },
      to: { path: ours, pathNot: '^src/($1|shared)/' },
    },
    {
      name: 'store-is-the-foundation',
      severity: 'error',
      comment:
        'src/store imports nothing of ours but the phase names (machines/phases.ts) and src/shared: the ' +
        'engine, the CLI, gc and a UI all stand on it, so it cannot know any of them.',
      from: { path: '^src/store/' },
      to: { path: ours, pathNot: '^(src/(store|shared)/|machines/phases\\.ts$)' },
    },
    {
      name: 'template-is-a-leaf',
      severity: 'error',
      comment:
        'src/template turns a template into a BuildSpec and depends on nothing of ours but src/shared, the ' +
        'phase names (machines/phases.ts, for kiln_phase_policy) and the ssh2 loader (src/ssh/library.ts, ' +
        'to check that a private key parses). Pass anything else in from the caller.',
      from: { path: '^src/template/' },
      to: { path: ours, pathNot: '^(src/(template|shared)/|machines/phases\\.ts$|src/ssh/library\\.ts$)' },
    },
    {
      name: 'shared-is-a-leaf',
      severity: 'error',
      comment: 'src/shared holds small helpers every area may use, so it imports nothing of ours.',
      from: { path: '^src/shared/' },
      to: { path: ours, pathNot: '^src/shared/' },
    },
    {
      name: 'view-drives-nothing',
      severity: 'error',
      comment:
        'src/view tells a build to a person (event sentences, elapsed times, the timeline, resource fates, ' +
        'status, the next-steps hint) for the CLI, the report and `kiln ui` alike, from the records and events ' +
        'of src/store. It imports src/store, src/shared and two pure helpers — src/template/duration.ts (a ' +
        "configured duration as the user wrote it) and src/scaleway/predict.ts (a phase's usual window) — and no " +
        'node: module or package: never the engine, the API client, ssh, provision or gc. Hand it the data.',
      from: { path: '^src/view/' },
      to: { pathNot: '^(src/(view|store|shared)/|src/template/duration\\.ts$|src/scaleway/predict\\.ts$)' },
    },
    {
      name: 'report-renders-from-records',
      severity: 'error',
      comment:
        'src/report is pure: it renders a build (its model, the SVG timeline, the HTML page) from the records ' +
        "and events its caller read with src/view's readBuild, and reads, writes or fetches nothing itself. " +
        'It imports src/view and its own files; anything else (the store\'s record types) as `import type` only. ' +
        'Do the reading in the caller (src/cli/run/report.ts, src/ui) and pass the result in.',
      from: { path: '^src/report/' },
      to: { pathNot: '^src/(report|view)/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'ui-reads-never-drives',
      severity: 'error',
      comment:
        '`kiln ui` is read-only: src/ui imports src/store (it is handed a StoreReader), src/view, src/report, ' +
        "src/shared, src/template/duration.ts and gc's planning — src/gc/survey.ts (planGc), options.ts, " +
        'errors.ts, classify.ts, render.ts, types.ts — never the engine, the API client, ssh, or gc\'s deletion ' +
        'and run record (index.ts, remove.ts, record.ts, command.ts). What a page needs that drives something ' +
        'does not belong in the UI.',
      from: { path: '^src/ui/' },
      to: {
        path: ours,
        pathNot: '^(src/(ui|view|report|store|shared)/|src/template/duration\\.ts$|src/gc/(survey|options|errors|classify|render|types)\\.ts$)',
      },
    },
    {
      name: 'only-the-cli-serves-the-ui',
      severity: 'error',
      comment:
        'src/ui is `kiln ui`: only the CLI starts it (src/cli/run/ui.ts). Nothing else imports it; what a page ' +
        'shares with the report or the CLI lives in src/report or src/view.',
      from: { path: ours, pathNot: '^src/(ui|cli)/' },
      to: { path: '^src/ui/' },
    },
    {
      name: 'sim-is-a-separate-world',
      severity: 'error',
      comment:
        'src/sim imports nothing of ours — above all nothing of src/scaleway, src/shared included: the ' +
        'simulator and the client share no code, so that each checks the other. Write it again on the sim side.',
      from: { path: '^src/sim/' },
      to: { path: ours, pathNot: '^src/sim/' },
    },
    {
      name: 'only-the-cli-starts-the-simulator',
      severity: 'error',
      comment:
        'Nothing in the product imports src/sim but `kiln sim` (src/cli/commands/sim.ts) and `kiln build --sim` ' +
        '(src/cli/run/build.ts), both with a dynamic import; above all not src/scaleway, which shares no code ' +
        'with it. Tests and scripts may import it.',
      from: { path: ours, pathNot: '^(src/sim/|src/cli/commands/sim\\.ts$|src/cli/run/build\\.ts$)' },
      to: { path: '^src/sim/' },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
  },
};
