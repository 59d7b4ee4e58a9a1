# frozen_string_literal: true

# Every test file of the plugin (what ctest runs).
Dir[File.join(__dir__, "test_*.rb")].sort.each { |f| require f }
