# Loaded by rmagic_ext/completion.py: R's own completion engine.

# R's completions for the code left of the cursor (utils' own engine, the
# one R's console uses): the token being completed and its candidates.
complete_line <- function(line) {
  utils:::.assignLinebuffer(line)
  utils:::.assignEnd(nchar(line))
  token <- utils:::.guessTokenFromLine()
  utils:::.completeToken()
  list(token = token, completions = utils:::.retrieveCompletions())
}
