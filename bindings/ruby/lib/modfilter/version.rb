# frozen_string_literal: true

module Modfilter
  # The binding's version (the library it loads reports its own: Modfilter.library_version).
  VERSION = "0.1.0"
end
