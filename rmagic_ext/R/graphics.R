# Loaded by rmagic_ext/graphics.py. R side of rmagic_ext's graphics: one device per cell, opened only when the
# cell draws (through options(device)), pages written to a private folder,
# and a poll after each top-level expression that says which pages to show.

.graphics <- new.env()

# Once per session: plots go to our device, opened by R on the first drawing
# call of a cell (so a cell that draws nothing costs nothing), with pages
# written under `dir`. `opened` is told when that happens.
graphics_install <- function(dir, opened) {
  .graphics$dir <- dir
  .graphics$opened <- opened
  .graphics$device <- NULL
  .graphics$serial <- 0L  # devices opened so far: each writes files of its own
  .graphics$previous_device <- getOption("device")
  .graphics$baseline <- .irkernel_option_baseline()
  setHook("before.plot.new", .page_ending)
  setHook("before.grid.newpage", .page_ending)
  options(device = open_cell_device)
  invisible()
}

# When the extension is unloaded: R's device option and hooks as they were.
graphics_uninstall <- function() {
  if (identical(getOption("device"), open_cell_device)) options(device = .graphics$previous_device)
  for (hook in c("before.plot.new", "before.grid.newpage")) {
    kept <- Filter(function(f) !identical(f, .page_ending), getHook(hook))
    setHook(hook, if (length(kept)) kept else NULL, "replace")
  }
  invisible()
}

# How the next devices look (called only when that changes).
graphics_spec <- function(spec) {
  .graphics$base_spec <- spec
  .graphics$spec <- spec
  invisible()
}

# -- IRkernel's options, read as each device opens ---------------------------------
# The cell's spec, changed by IRkernel's options where the cell and %config
# did not say (their `explicit_*` fields): repr.plot.width/height (inches),
# .res, .pointsize, .bg, .family, .quality; jupyter.plot_mimetypes (the first
# image type draws, the others are rendered from each page's record);
# jupyter.plot_scale (notebook PPI / res: the size the image is shown at).
.irkernel_options <- c("repr.plot.width", "repr.plot.height", "repr.plot.res", "repr.plot.pointsize",
                       "repr.plot.bg", "repr.plot.family", "repr.plot.quality", "jupyter.plot_mimetypes",
                       "jupyter.plot_scale")

# The options as they are before the user sets any: repr sets its defaults
# (7 x 7 inches at 120 dpi) when it loads, which are not the user's choice
# (plots follow matplotlib's size until the user says otherwise).
.irkernel_option_baseline <- function() {
  if (requireNamespace("repr", quietly = TRUE)) invisible(asNamespace("repr"))
  options()[.irkernel_options]
}

# An IRkernel option the user set: NULL while it is as it was at start.
.user_option <- function(name) {
  value <- getOption(name)
  if (identical(value, .graphics$baseline[[name]])) NULL else value
}

.plot_mimes <- c("image/png" = "png", "image/jpeg" = "jpeg", "image/svg+xml" = "svg", "application/pdf" = "pdf")

irkernel_spec <- function(spec) {
  scale <- if (identical(spec$format, "png") && isTRUE(spec$retina)) 2 else 1
  w <- .positive_option("repr.plot.width")
  h <- .positive_option("repr.plot.height")
  if (!isTRUE(spec$explicit_size) && (!is.null(w) || !is.null(h))) {
    spec$width_in <- w %||% spec$width_in
    spec$height_in <- h %||% spec$height_in
    spec$units <- "in"
    spec$width <- spec$width_in
    spec$height <- spec$height_in
  }
  res <- .positive_option("repr.plot.res")
  if (!isTRUE(spec$explicit_res) && !is.null(res)) spec$res <- res * scale
  pointsize <- .positive_option("repr.plot.pointsize")
  if (!isTRUE(spec$explicit_pointsize) && !is.null(pointsize)) spec$pointsize <- pointsize
  bg <- .user_option("repr.plot.bg")
  if (!isTRUE(spec$explicit_bg) && is.character(bg) && length(bg) == 1L && !is.na(bg)) spec$bg <- bg
  family <- .user_option("repr.plot.family")
  if (is.character(family) && length(family) == 1L && !is.na(family)) spec$family <- family
  quality <- .positive_option("repr.plot.quality")
  if (!is.null(quality)) spec$quality <- min(100, quality)
  spec$mimetypes <- .plot_mimetypes(spec)
  image <- intersect(names(.plot_mimes), spec$mimetypes)
  if (!isTRUE(spec$explicit_format) && length(image)) {
    first <- .plot_mimes[[image[1L]]]
    if (first != spec$format) {
      spec$retina <- FALSE
      spec$res <- spec$res / scale
      spec$format <- first
      spec$ext <- first
    }
    spec$extra <- unname(.plot_mimes[image[-1L]])
  } else {
    spec$extra <- character()
  }
  scale_option <- .positive_option("jupyter.plot_scale")
  spec$shown_scale <- scale_option %||% 0
  spec
}

`%||%` <- function(a, b) if (is.null(a)) b else a

# A positive number set as an option, or NULL (a value that is not one is
# said once, and ignored).
.positive_option <- function(name) {
  value <- .user_option(name)
  if (is.null(value)) return(NULL)
  if (is.numeric(value) && length(value) == 1L && is.finite(value) && value > 0) return(as.numeric(value))
  cat(sprintf("rmagic_ext: options(%s = %s) is not a positive number: ignored\n", name,
              paste(deparse(value, nlines = 1L), collapse = "")), file = stderr())
  NULL
}

# What a plot is sent as: jupyter.plot_mimetypes where set (unknown types
# said once and left out), else the image and a text/plain line, as IRkernel.
.plot_mimetypes <- function(spec) {
  wanted <- .user_option("jupyter.plot_mimetypes")
  if (is.null(wanted)) return(c("text/plain", names(.plot_mimes)[.plot_mimes == spec$format]))
  wanted <- as.character(wanted)
  unknown <- setdiff(wanted, c("text/plain", names(.plot_mimes)))
  if (length(unknown)) {
    cat(sprintf("rmagic_ext: jupyter.plot_mimetypes: %s cannot be drawn here (%s)\n",
                paste(unknown, collapse = ", "), "png, jpeg, svg, pdf and text/plain can"), file = stderr())
  }
  wanted <- intersect(wanted, c("text/plain", names(.plot_mimes)))
  if (!length(intersect(wanted, names(.plot_mimes)))) {
    wanted <- c(wanted, names(.plot_mimes)[.plot_mimes == spec$format])
  }
  wanted
}

# The text/plain of a plot, as IRkernel gives it: repr's line ("Plot with
# title ...") where repr is installed, else "plot without title".
.plot_text <- function(record) {
  if (!requireNamespace("repr", quietly = TRUE)) return("plot without title")
  tryCatch(paste(repr::repr_text(record), collapse = "\n"), error = function(e) "plot without title")
}

# Note what the page ending now was (its text, its record for other formats).
.note_page <- function(page) {
  if (page < 1L) return(invisible())
  spec <- .graphics$spec
  needs_text <- "text/plain" %in% spec$mimetypes
  if (!needs_text && !length(spec$extra)) return(invisible())
  record <- .record_page()
  if (needs_text) .graphics$titles[page] <- .plot_text(record)
  if (length(spec$extra)) .graphics$records[[page]] <- record
  invisible()
}

.record_page <- function() {
  dev <- .graphics$device
  previous <- grDevices::dev.cur()
  if (previous != dev) grDevices::dev.set(dev)
  on.exit(if (previous != dev && previous %in% grDevices::dev.list()) grDevices::dev.set(previous))
  grDevices::recordPlot()
}

# The other formats of a finished page, drawn from its record: a file each.
graphics_extras <- function(page) {
  spec <- .graphics$spec
  record <- if (page <= length(.graphics$records)) .graphics$records[[page]]
  if (is.null(record) || !length(spec$extra)) return(character())
  vapply(spec$extra, function(format) {
    file <- file.path(.graphics$dir, sprintf("d%03d-extra%03d.%s", .graphics$serial, page, format))
    draw_plot_object(record, spec, file, format)
    file
  }, "")
}

# A page's text/plain: noted when it ended, or read now from the page in
# progress (a snapshot shown before it ends).
.page_text <- function(page) {
  if (page <= length(.graphics$titles) && !is.na(.graphics$titles[page])) return(.graphics$titles[page])
  if (.cell_device_open() && page == length(.page_files()) && .page_length() > 0L) return(.plot_text(.record_page()))
  "plot without title"
}

# What Python needs to send a page: the spec in force and the page's text.
graphics_page_info <- function(page) {
  spec <- .graphics$spec
  list(format = spec$format, width_in = spec$width_in, height_in = spec$height_in,
       res = spec$res / (if (identical(spec$format, "png") && isTRUE(spec$retina)) 2 else 1),
       retina = isTRUE(spec$retina), shown_scale = spec$shown_scale %||% 0,
       text = if ("text/plain" %in% spec$mimetypes) .page_text(page),
       mimetypes = spec$mimetypes)
}

# R opens this when something draws and no device is open, and for dev.new():
# while our device is open, that only means "a new page on it".
open_cell_device <- function(...) {
  if (.cell_device_open()) {
    grDevices::dev.set(.graphics$device)
    return(invisible())
  }
  spec <- .graphics$opened()  # outside a cell, Python says how this device looks
  if (is.list(spec)) .graphics$base_spec <- spec
  spec <- .graphics$spec <- irkernel_spec(.graphics$base_spec)
  .graphics$serial <- .graphics$serial + 1L
  .graphics$titles <- character()  # text/plain of each finished page
  .graphics$records <- list()      # each finished page, where other formats are wanted too
  .graphics$published <- 0L      # finished pages already handed to Python
  .graphics$shown <- c(page = 0L, length = -1L)  # page in progress as last snapshotted
  .graphics$snapshots <- 0L
  .graphics$final_length <- integer()  # display-list length of each page as it ended
  open_device(spec, file.path(.graphics$dir, sprintf("d%03d-page%%03d.%s", .graphics$serial, spec$ext)))
  grDevices::dev.control("enable")  # keep a display list: snapshots replay it
  .graphics$device <- grDevices::dev.cur()
  invisible()
}

open_device <- function(spec, file, format = spec$format) {
  type <- .device_type(spec$type)
  family <- spec$family %||% ""
  switch(format,
    png = grDevices::png(file, width = spec$width, height = spec$height, units = spec$units,
                         res = spec$res, pointsize = spec$pointsize, bg = spec$bg, type = type, family = family),
    jpeg = grDevices::jpeg(file, width = spec$width, height = spec$height, units = spec$units,
                           res = spec$res, pointsize = spec$pointsize, bg = spec$bg,
                           quality = spec$quality %||% 90, type = type, family = family),
    svg = grDevices::svg(file, width = spec$width_in, height = spec$height_in,
                         pointsize = spec$pointsize, bg = spec$bg, onefile = FALSE,
                         family = if (nzchar(family)) family else "sans"),
    pdf = grDevices::pdf(file, width = spec$width_in, height = spec$height_in, pointsize = spec$pointsize,
                         bg = spec$bg, onefile = FALSE, family = if (nzchar(family)) family else "Helvetica"))
}

# rpy2's --type, where this R can draw with it; cairo (with a note) elsewhere:
# Xlib needs an X display, quartz macOS.
.device_type <- function(type) {
  usable <- switch(type, Xlib = capabilities("X11"), quartz = capabilities("aqua"), TRUE)
  if (isTRUE(usable)) return(type)
  message(sprintf("--type %s cannot draw here (no %s); plotting with cairo", type,
                  if (type == "Xlib") "X display" else "macOS"))
  "cairo"
}

# Runs before base or grid graphics start a page (or a panel of one): note
# how long the display list of our current page is, which is its final length
# if a new page is what follows.
.page_ending <- function(...) {
  if (.cell_device_open() && grDevices::dev.cur() == .graphics$device) {
    page <- length(.page_files())
    # only a snapshotted page can be shown twice
    if (.graphics$shown[["page"]] > 0L && page == .graphics$shown[["page"]]) {
      .graphics$final_length[page] <- .page_length()
    }
    if (page > length(.graphics$titles) && .page_length() > 0L) .note_page(page)
  }
  invisible()
}

.cell_device_open <- function() {
  dev <- .graphics$device
  !is.null(dev) && dev %in% grDevices::dev.list()
}

# Length of the current page's display list on our device (0: blank page).
.page_length <- function() {
  dev <- .graphics$device
  previous <- grDevices::dev.cur()
  if (previous != dev) grDevices::dev.set(dev)
  on.exit(if (previous != dev && previous %in% grDevices::dev.list()) grDevices::dev.set(previous))
  length(grDevices::recordPlot()[[1L]])
}

# Cairo devices create a page's file when the page starts and fill it when
# the page ends: every file of the open device but the last is a finished page.
.page_files <- function() {
  sort(list.files(.graphics$dir, pattern = sprintf("^d%03d-page[0-9]+\\.", .graphics$serial),
                  full.names = TRUE))
}

# Pages of our devices that are closed now (dev.off() in a cell): all finished.
.closed_pages <- function() {
  files <- sort(list.files(.graphics$dir, pattern = "^d[0-9]+-page[0-9]+\\.", full.names = TRUE))
  if (.cell_device_open()) files <- setdiff(files, .page_files())
  files
}

# Finished pages not reported yet, leaving out a page whose last snapshot
# already shows it as it ended.
.report <- function(files, last) {
  first <- .graphics$published + 1L
  pages <- if (last >= first) first:last else integer()
  shown <- .graphics$shown
  same <- pages == shown[["page"]] & pages <= length(.graphics$final_length) &
    !is.na(.graphics$final_length[pages]) & .graphics$final_length[pages] == shown[["length"]]
  .graphics$published <- max(.graphics$published, last)
  list(completed = files[pages[!same]], pages = pages[!same])
}

# After a top-level expression: pages finished since the last poll, and, when
# `snapshot` is TRUE, an image of the page in progress if it changed since it
# was last shown.
graphics_poll <- function(snapshot) {
  closed <- .closed_pages()
  if (!.cell_device_open()) {
    return(list(completed = closed, pages = rep(0L, length(closed)), snapshot = NULL, page = 0L))
  }
  files <- .page_files()
  page <- length(files)
  out <- .report(files, page - 1L)
  out$completed <- c(closed, out$completed)
  out$pages <- c(rep(0L, length(closed)), out$pages)
  out$page <- page
  out["snapshot"] <- list(NULL)
  if (snapshot && page > 0L) {
    len <- .page_length()
    if (page != .graphics$shown[["page"]] || len != .graphics$shown[["length"]]) {
      out$snapshot <- .snapshot(page)
      .graphics$shown <- c(page = page, length = len)
    }
  }
  out
}

.snapshot <- function(page) {
  spec <- .graphics$spec
  .graphics$snapshots <- .graphics$snapshots + 1L
  file <- file.path(.graphics$dir, sprintf("d%03d-snapshot%03d-%d.%s", .graphics$serial, page,
                                           .graphics$snapshots, spec$ext))
  dev <- .graphics$device
  previous <- grDevices::dev.cur()
  grDevices::dev.set(dev)
  open_device(spec, file)
  copy <- grDevices::dev.cur()
  grDevices::dev.set(dev)
  grDevices::dev.copy(which = copy)
  grDevices::dev.off(copy)
  if (previous %in% grDevices::dev.list()) grDevices::dev.set(previous)
  file
}

# End of the cell (also after an error or an interrupt): close our device so
# its last page is written. Python lists the page files; this says how many
# were already shown, and which page (if any) its snapshot shows as it ended.
graphics_end <- function() {
  if (!.cell_device_open()) return(list(published = 0L, same = 0L, closed = .closed_pages(), pages = character()))
  closed <- .closed_pages()
  shown <- .graphics$shown
  same <- 0L
  if (shown[["page"]] > 0L) {
    if (length(.page_files()) == shown[["page"]]) .graphics$final_length[shown[["page"]]] <- .page_length()
    ended <- .graphics$final_length[shown[["page"]]]
    if (!is.na(ended) && ended == shown[["length"]]) same <- shown[["page"]]
  }
  pages <- .page_files()
  if (length(pages) > length(.graphics$titles) && .page_length() > 0L) .note_page(length(pages))
  grDevices::dev.off(.graphics$device)
  .graphics$device <- NULL
  list(published = .graphics$published, same = same, closed = closed, pages = pages)
}

# A cell starts while our device is still open from drawing outside any cell
# (a plot from Python code): close it and drop its pages, so that they are
# neither lost in this cell's count nor shown here as if this cell drew them.
graphics_discard <- function() {
  if (.cell_device_open()) grDevices::dev.off(.graphics$device)
  .graphics$device <- NULL
  unlink(list.files(.graphics$dir, full.names = TRUE))
  invisible()
}

# A plot object (ggplot2, lattice, grob, recorded plot) drawn into `file` on a
# device of its own (the cell's device, if open, is left as it was).
draw_plot_object <- function(x, spec, file, format) {
  previous <- grDevices::dev.cur()
  open_device(spec, file, if (is.character(format) && format %in% .plot_mimes) format else spec$format)
  device <- grDevices::dev.cur()
  on.exit({
    grDevices::dev.off(device)
    if (previous > 1L && previous %in% grDevices::dev.list()) grDevices::dev.set(previous)
  })
  if (inherits(x, "recordedplot")) {
    grDevices::replayPlot(x)
  } else if (inherits(x, c("ggplot", "trellis"))) {
    print(x)
  } else {
    grid::grid.newpage()
    grid::grid.draw(x)
  }
  invisible(file)
}
