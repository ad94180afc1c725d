/// The report's inline style sheet: a quiet, print-friendly layout readable from 1280 px wide.
enum ReportStyle {
    static let css = """
        :root { --ink: #1d2330; --muted: #5b6475; --line: #e3e6eb; --page: #f4f5f7; --card: #ffffff; }
        * { box-sizing: border-box; }
        html { -webkit-text-size-adjust: 100%; }
        body { margin: 0; background: var(--page); color: var(--ink);
          font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "DejaVu Sans", sans-serif; }
        main { max-width: 1232px; margin: 0 auto; padding: 28px 24px 40px; }
        header.top h1 { font-size: 25px; margin: 0 0 2px; letter-spacing: -0.01em; }
        header.top .subtitle { color: var(--muted); margin: 0 0 16px; }
        section { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 18px 22px 20px;
          margin: 16px 0; }
        h2 { font-size: 17px; margin: 0 0 4px; }
        h3 { font-size: 14px; margin: 6px 0 2px; }
        p.note { color: var(--muted); margin: 0 0 12px; font-size: 13px; max-width: 980px; }
        .settings { display: grid; grid-template-columns: repeat(4, minmax(0, 1fr)); gap: 10px 22px; margin: 0; }
        .settings div { min-width: 0; }
        .settings dt { color: var(--muted); font-size: 11.5px; text-transform: uppercase; letter-spacing: 0.04em; }
        .settings dd { margin: 1px 0 0; font-weight: 600; overflow-wrap: anywhere; }
        .settings .wide { grid-column: span 2; }
        ul.glance { margin: 4px 0 0; padding-left: 18px; }
        ul.glance li { margin: 2px 0; }
        .row { display: flex; flex-wrap: wrap; gap: 18px; align-items: flex-start; }
        .row > figure { flex: 1 1 560px; }
        figure { margin: 0; min-width: 0; }
        figcaption { font-weight: 600; margin: 0 0 6px; font-size: 14px; }
        figcaption span { font-weight: 400; color: var(--muted); font-size: 12.5px; }
        svg { display: block; max-width: 100%; height: auto; overflow: visible; }
        .legend { display: flex; flex-wrap: wrap; gap: 4px 18px; margin: 4px 0 12px; font-size: 13px; }
        .legend .item { display: inline-flex; align-items: center; gap: 5px; white-space: nowrap; }
        .legend .muted { color: var(--muted); }
        .legend .line { display: inline-block; width: 18px; border-top: 2.5px solid; margin-right: -2px; }
        .legend .line.dashed { border-top-style: dashed; }
        .swatch { display: inline-block; width: 10px; height: 10px; margin-right: 6px; vertical-align: -1px; flex: none; }
        .swatch.circle { border-radius: 50%; }
        .swatch.diamond { transform: rotate(45deg) scale(0.85); }
        .swatch.triangle { clip-path: polygon(50% 0, 100% 100%, 0 100%); }
        table.summary { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
        table.summary th { font-size: 12px; color: var(--muted); font-weight: 600; text-align: right; padding: 6px 8px;
          border-bottom: 2px solid var(--line); vertical-align: bottom; cursor: help; }
        table.summary td { padding: 7px 8px; border-bottom: 1px solid var(--line); text-align: right; vertical-align: top; }
        table.summary .name { text-align: left; }
        table.summary .rank { color: var(--muted); width: 28px; text-align: right; }
        table.summary td.num { font-weight: 600; white-space: nowrap; }
        table.summary td.time, table.summary td.params { white-space: nowrap; }
        table.summary td.missing { color: #a0a7b3; font-weight: 400; }
        table.summary .params .share { display: block; color: var(--muted); font-size: 12px; }
        table.summary .interval { color: var(--muted); font-size: 12px; white-space: nowrap; }
        table.summary .status { text-align: center; }
        table.summary tr.failed td { background: #fcf6f6; }
        .summary-text, .options { color: var(--muted); font-size: 12px; }
        .options { font-family: ui-monospace, "SFMono-Regular", Menlo, "DejaVu Sans Mono", monospace; font-size: 11.5px; }
        .failure { color: #a11d1d; font-size: 12px; margin-top: 2px; }
        .badge { display: inline-block; padding: 1px 8px; border-radius: 9px; font-size: 12px; font-weight: 600; }
        .badge.ok { background: #e6f3ea; color: #22663a; }
        .badge.bad { background: #fde3e3; color: #a11d1d; }
        .pareto { display: inline-block; margin-left: 4px; padding: 0 6px; border-radius: 8px; font-size: 11px;
          background: #eef2fa; color: #2a4a8a; font-weight: 600; }
        .defs { color: var(--muted); font-size: 12.5px; margin: 10px 0 0; }
        .defs b { color: var(--ink); font-weight: 600; }
        .empty { color: var(--muted); font-style: italic; padding: 24px; border: 1px dashed var(--line); border-radius: 8px;
          text-align: center; }
        .grid-panels { display: grid; gap: 14px 18px; }
        .key { display: inline-flex; gap: 14px; font-size: 12.5px; color: var(--muted); margin-bottom: 10px; }
        .key span::before { content: ""; display: inline-block; width: 10px; height: 10px; margin-right: 5px;
          vertical-align: -1px; background: var(--c); }
        details { margin-top: 12px; }
        summary { cursor: pointer; color: #2a4a8a; font-weight: 600; }
        .scroll { overflow-x: auto; }
        .scroll svg { max-width: none; }
        footer { color: var(--muted); font-size: 12px; text-align: center; margin-top: 18px; }
        @media print { body { background: #fff; } section { break-inside: avoid; border-color: #ccc; } }
        """
}
