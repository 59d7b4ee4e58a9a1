#!/usr/bin/env ruby
# frozen_string_literal: true

# Per-call cost of the Ruby binding next to the C API's own time, on the same real posts, in one run.
#
#   python3 bench/corpora.py --only prose          # build/bench-corpora/prose.txt, a post per line
#   MODFILTER_LIBRARY=build/capi/libmodfilter.so ruby bench/ruby/bench_ruby.rb [--posts N] [--rounds R]
#
# What it does:
#   1. takes the first N posts (default 5000, about 1 KB each) of prose.txt and writes them to a
#      temporary file;
#   2. compiles bench/python/c_baseline.c against the library the binding loaded and runs it on
#      that file: mf_scan_text per post and mf_scan_batch, each reading back every category and hit;
#   3. times, in this process, Engine#scan per post and Engine#scan_many (every field read back),
#      after checking that both sides found the same actions and hits;
#   4. prints the binding's cost on top of C per post. Bars (issue 13): scan_many <= 2 us/post and
#      scan <= 5 us/post on top of the C API. Exit status 1 when a bar is missed.
# A script, not a test: timings depend on the machine and on what else runs on it.

require "json"
require "optparse"
require "open3"
require "rbconfig"
require "tmpdir"

ROOT = File.expand_path("../..", __dir__)
$LOAD_PATH.unshift(File.join(ROOT, "bindings", "ruby", "lib"))
require "modfilter"

opts = { posts: 5000, rounds: 7, corpus: File.join(ROOT, "build", "bench-corpora", "prose.txt"), json: false }
OptionParser.new do |o|
  o.banner = "usage: bench_ruby.rb [--posts N] [--rounds R] [--corpus FILE] [--json]"
  o.on("--posts N", Integer, "number of posts (default 5000)") { |v| opts[:posts] = v }
  o.on("--rounds N", Integer, "best of this many rounds (default 7)") { |v| opts[:rounds] = v }
  o.on("--corpus FILE", "one post per line (default build/bench-corpora/prose.txt)") { |v| opts[:corpus] = v }
  o.on("--json", "print the figures as JSON too") { opts[:json] = true }
end.parse!

unless File.exist?(opts[:corpus])
  abort "bench: #{opts[:corpus]} not found: run `python3 bench/corpora.py --only prose` first"
end
posts = File.foreach(opts[:corpus], chomp: true).first(opts[:posts]).map { |l| l.force_encoding(Encoding::UTF_8) }
lib = Modfilter.library_path
abort "bench: set MODFILTER_LIBRARY to the library's path, so the C baseline links the same file" unless lib.include?("/")
engine = Modfilter::Engine.new
batch = Modfilter::Engine::BATCH_SIZE

def best_of(rounds)
  Array.new(rounds) do
    t0 = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    yield
    Process.clock_gettime(Process::CLOCK_MONOTONIC) - t0
  end.min
end

nbytes = posts.sum(&:bytesize)
checksum = ->(vs) { vs.sum { |v| Modfilter::ACTIONS.index(v.action) + (16 * v.hits.size) } }
single = posts.map { |p| engine.scan(p) }
many = engine.scan_many(posts)
c = nil
t_scan = t_many = Float::INFINITY
Dir.mktmpdir("modfilter-bench") do |tmp|
  path = File.join(tmp, "posts.txt")
  File.binwrite(path, posts.join("\n"))
  exe = File.join(tmp, "c_baseline")
  cc = ENV["CC"] || "cc"
  libdir = File.dirname(File.expand_path(lib))
  _, err, st = Open3.capture3(cc, "-O2", "-std=c11", "-pthread", "-I", File.join(ROOT, "capi", "include"),
                              File.join(ROOT, "bench", "python", "c_baseline.c"), File.expand_path(lib),
                              "-Wl,-rpath,#{libdir}", "-o", exe)
  abort "bench: compiling the C baseline failed: #{err}" unless st.success?
  # C and Ruby take turns, round by round, so that both see the same machine (other processes
  # sharing the CPUs move every figure); the best round of each is kept.
  opts[:rounds].times do
    out, err, st = Open3.capture3(exe, path, "-", "1", batch.to_s)
    abort "bench: C baseline failed: #{err}" unless st.success?
    r = JSON.parse(out)
    if c.nil?
      c = r
      abort "bench: the C baseline read #{c['posts']} posts, not #{posts.size}" unless c["posts"] == posts.size && c["bytes"] == nbytes
      sums = [checksum.call(single), checksum.call(many), c["checksum_single"], c["checksum_batch"]]
      abort "bench: results differ between C and Ruby: #{sums.inspect}" unless sums.uniq.size == 1
    else
      %w[scan_only_us single_us batch_us].each { |k| c[k] = [c[k], r[k]].min }
    end
    GC.start
    t_scan = [t_scan, best_of(1) { posts.each { |p| engine.scan(p) } }].min
    t_many = [t_many, best_of(1) { engine.scan_many(posts) }].min
  end
end
c["rounds"] = opts[:rounds]
t_scan = t_scan / posts.size * 1e6
t_many = t_many / posts.size * 1e6
flagged = single.count(&:flagged?)

puts format("modfilter %s (%s), Ruby %s, ffi %s, %d posts of %d bytes on average (%s; %d not ALLOW), best of %d",
            Modfilter.library_version, lib, RUBY_VERSION, FFI::VERSION, posts.size, nbytes / posts.size,
            File.basename(opts[:corpus]), flagged, opts[:rounds])
puts
puts format("%-44s %10s %10s %12s", "", "us/post", "posts/s", "on top of C")
rows = [
  ["C    mf_scan_text (action only)", c["scan_only_us"], nil],
  ["C    mf_scan_text + read verdict", c["single_us"], nil],
  ["C    mf_scan_batch(#{batch}) + read verdicts", c["batch_us"], nil],
  ["Ruby Engine#scan", t_scan, t_scan - c["single_us"]],
  ["Ruby Engine#scan_many (batch #{batch})", t_many, t_many - c["batch_us"]]
]
rows.each do |name, us, over|
  puts format("%-44s %10.2f %10.0f %12s", name, us, 1e6 / us, over ? format("%+.2f us", over) : "")
end
ok_many = t_many - c["batch_us"] <= 2.0
ok_scan = t_scan - c["single_us"] <= 5.0
puts
puts format("bar scan_many <= 2 us/post on top of C: %s (%+.2f us)", ok_many ? "met" : "MISSED", t_many - c["batch_us"])
puts format("bar scan      <= 5 us/post on top of C: %s (%+.2f us)", ok_scan ? "met" : "MISSED", t_scan - c["single_us"])
if opts[:json]
  puts JSON.generate("c" => c, "ruby_scan_us" => t_scan, "ruby_scan_many_us" => t_many,
                     "over_scan_us" => t_scan - c["single_us"], "over_scan_many_us" => t_many - c["batch_us"])
end
exit(ok_many && ok_scan ? 0 : 1)
