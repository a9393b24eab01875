import ArgumentParser

/// `vst report-index`: one page that links every report a job wrote, with a table of their verdicts.
struct ReportIndexCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report-index",
        abstract: "Link every report under a directory from one page (reports.html) with a table of their verdicts.",
        discussion: """
        Finds each report directory under DIR (an index.html beside its report.json, as --report and vst demo \
        write them), reads its verdict from report.json (regime, drift, validation status, baseline …) and writes \
        DIR/reports.html. --result lists a JSON result too (e.g. the output of vst … --json), linked as it is.
        Example: vst report-index quality --title "Sample quality" --force
        """)

    @Argument(help: "Directory holding the reports.") var dir: String
    @Option(help: "Title of the index page.") var title = "Reports"
    @Option(help: "A line under the title.") var subtitle = ""
    @Option(name: .customLong("result"), help: ArgumentHelp("A JSON result to list too (path relative to DIR); repeatable.", valueName: "file"))
    var results: [String] = []
    @Option(help: "Directory levels searched below DIR.") var depth = 5
    @Flag(help: "Overwrite an existing index page.") var force = false
    @Flag(help: "Print the index as one JSON object instead of a table.") var json = false

    func validate() throws {
        guard depth >= 0 else { throw ValidationError("--depth must be at least 0, got \(depth)") }
    }

    func run() throws {
        let result = try ReportIndexJob.run(dir, title: title, subtitle: subtitle, results: results, depth: depth, force: force)
        Outputs.emit(result.output.json, table: result.output.table, json: json)
    }
}
