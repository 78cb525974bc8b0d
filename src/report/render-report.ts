import { renderCsv } from "./render-csv.js";
import { renderHtml } from "./render-html.js";
import { renderMarkdown } from "./render-markdown.js";
import type { Report } from "./report.js";

export const REPORT_FORMATS = ["json", "csv", "md", "html"] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export function isReportFormat(value: string): value is ReportFormat {
  return (REPORT_FORMATS as readonly string[]).includes(value);
}

/** A run's report in one of the export formats; JSON is exactly the API's shape. */
export function renderReport(report: Report, format: ReportFormat): string {
  switch (format) {
    case "json":
      return `${JSON.stringify(report, null, 2)}\n`;
    case "csv":
      return renderCsv(report);
    case "md":
      return renderMarkdown(report);
    case "html":
      return renderHtml(report);
  }
}
