// RunSupport: the pieces every `diffrep` subcommand shares (docs/DESIGN.md §1 "manifest", §3).
//
// - OutputFolder  `--out DIR`: created if missing, proved writable up front; atomic writes.
// - ProgressBar   one redrawn line on a terminal, periodic lines in logs; ETA from a smoothed rate.
// - RunManifest   manifest.json: command line, seed, settings, model digests (SHA256), times, outputs.
// - CSVLog        per-step numbers (step,loss,lr,…), flushed per row, resumable without duplicates.
// - LinePlot      a line chart to a PNGImage (loss.png), labelled with the built-in PixelFont.
//
// A subcommand, top to bottom:
//
//     let out = try OutputFolder.prepare(options.out)                  // fail in the first second
//     var manifest = RunManifest(subcommand: "train", version: DiffrepVersion.string, seed: options.seed,
//                                settings: ["steps": .int(options.steps), "lr": .double(options.lr)])
//     try manifest.recordModel(at: options.model)
//     let log = try CSVLog(url: out.appendingPathComponent("loss.csv"), columns: ["loss", "lr"],
//                          resumingAfter: checkpoint?.step)
//     let bar = ProgressBar("training", total: options.steps, initialStep: checkpoint?.step ?? 0)
//     for step in start...options.steps {
//         let loss = trainStep()
//         try log.append(step: step, values: [loss, lr])
//         bar.update(step: step, extra: ["loss": loss])
//     }
//     bar.finish()
//     let (_, rows) = try CSVLog.read(log.url)
//     var plot = LinePlot(title: "training loss", xLabel: "step", yLabel: "loss", logY: true)
//     plot.add("loss", x: rows.map { $0[0] }, y: rows.map { $0[1] })
//     try plot.write(to: out.appendingPathComponent("loss.png"))
//     manifest.addOutput("loss.csv"); manifest.addOutput("loss.png")
//     manifest.measurements["final_loss"] = rows.last?[1]
//     manifest.finish()
//     try manifest.write(to: out.appendingPathComponent("manifest.json"))
