# frozen_string_literal: true

# Every test file of the binding (what ctest runs).
Dir[File.join(__dir__, "test_*.rb")].sort.each { |f| require f unless f.end_with?("test_helper.rb") }
