// Finding the heredocs a RUN/COPY/ADD line opens (`<<EOF`, `<<-EOF`,
// `<<"EOF"`, `3<<EOF`, several per line), as BuildKit does: the line is split
// into shell words and each word matching `[0-9]*<<-?WORD` names one heredoc.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "build/dockerfile_lexer.h"

namespace vk::build {

// Whether the line is an instruction that takes heredocs (RUN, COPY, ADD, or
// ONBUILD of one) in shell form, and mentions "<<".
bool MayOpenHeredocs(std::string_view line, char escape);

// The heredocs the line opens, in order, bodies still empty.
Result<std::vector<Heredoc>> HeredocsOfLine(std::string_view line);

// The heredoc one argument word names ("<<EOF" -> EOF), nullopt when the word
// is not a heredoc. COPY/ADD use it to tell inline sources from paths.
Result<std::optional<Heredoc>> HeredocOfWord(std::string_view word);

}  // namespace vk::build
