<?php

declare(strict_types=1);

use Modfilter\Engine;
use Modfilter\Hit;
use Modfilter\InvalidArgumentException;
use Modfilter\PostTooLargeException;
use Modfilter\RulesException;
use Modfilter\Verdict;
use PHPUnit\Framework\TestCase;

/** Scanning through the default packs and a small test pack: verdicts, offsets, batches. */
final class EngineTest extends TestCase
{
    private static ?Engine $default = null;

    private static function engine(): Engine
    {
        return self::$default ??= new Engine();
    }

    private static function fixture(string $name): string
    {
        return __DIR__ . "/fixtures/$name";
    }

    public function testCleanAndEmptyPostsAreAllowed(): void
    {
        $v = self::engine()->scan('Thanks, the firmware update fixed my router.');
        $this->assertSame(Verdict::ALLOW, $v->action);
        $this->assertSame([], $v->hits);
        $this->assertFalse($v->flagged());
        $empty = self::engine()->scan('');
        $this->assertSame(Verdict::ALLOW, $empty->action);
        $this->assertSame(0, $empty->invalidUtf8);
    }

    public function testInsultIsFlaggedWithHitsAndRoutes(): void
    {
        $v = self::engine()->scan('You are an idiot');
        $this->assertSame(Verdict::FLAG, $v->action);
        $this->assertSame(1, $v->severity());
        $this->assertArrayHasKey('abuse.harassment', $v->categories);
        $this->assertContains('pr', $v->routes);
        $this->assertNotEmpty($v->hits);
        foreach ($v->hits as $h) {
            $this->assertInstanceOf(Hit::class, $h);
            $this->assertSame(substr('You are an idiot', $h->start, $h->end - $h->start), $h->text);
        }
    }

    public function testQuotedInsultIsListedAndMarkedButNotFlagged(): void
    {
        $v = self::engine()->scan("> You are an idiot\nPlease keep it civil, everyone.");
        $this->assertSame(Verdict::ALLOW, $v->action);
        $this->assertNotEmpty($v->hits);
        foreach ($v->hits as $h) {
            $this->assertTrue($h->quoted);
        }
        foreach (self::engine()->scan('You are an idiot')->hits as $h) {
            $this->assertFalse($h->quoted);
        }
    }

    public function testPromiseRulesApplyToStaffOnly(): void
    {
        $text = "We'll refund everyone by Friday";
        $staff = self::engine()->scan($text, ['role' => 'staff']);
        $member = self::engine()->scan($text, ['role' => 'member']);
        $this->assertSame(Verdict::HOLD, $staff->action);
        $this->assertContains('promise.money', array_keys($staff->categories));
        $this->assertSame(Verdict::ALLOW, $member->action);
        $this->assertSame(Verdict::ALLOW, self::engine()->scan($text)->action, 'member is the default role');
        $this->assertSame(Verdict::HOLD, self::engine()->scan($text, ['role' => 'STAFF'])->action);
    }

    public function testOffsetsInBytesAndCodePoints(): void
    {
        $text = "Très déçu 😡 — you are an idiot";
        $v = Engine::fromRules(self::fixture('good'))->scan($text);
        $this->assertCount(1, $v->hits);
        $h = $v->hits[0];
        $this->assertSame('idiot', $h->text);
        $this->assertSame(strpos($text, 'idiot'), $h->start);
        $this->assertSame(mb_strpos($text, 'idiot', 0, 'UTF-8'), $h->startChar);
        $this->assertSame($h->startChar + 5, $h->endChar);
        $this->assertSame('idiot', mb_substr($text, $h->startChar, $h->endChar - $h->startChar, 'UTF-8'));
        $this->assertGreaterThan($h->startChar, $h->start, 'multi-byte letters before the hit');
    }

    public function testInvalidUtf8IsScannedAndCounted(): void
    {
        $text = "caf\xC3 \xFF\xFE you are an idiot \x80";
        $v = Engine::fromRules(self::fixture('good'))->scan($text, ['censor' => true]);
        $this->assertSame(Verdict::FLAG, $v->action);
        $this->assertSame(4, $v->invalidUtf8); // \xC3 cut short, \xFF, \xFE, a lone \x80
        $this->assertSame(strpos($text, 'idiot'), $v->hits[0]->start, 'offsets index the bytes as passed');
        $this->assertSame('idiot', $v->hits[0]->text);
        $this->assertStringContainsString('*****', $v->censored);
        $this->assertStringNotContainsString('idiot', $v->censored);
    }

    public function testCensorKeepsNulBytes(): void
    {
        $text = "a\0b you are an idiot";
        $v = Engine::fromRules(self::fixture('good'))->scan($text, ['censor' => true]);
        $this->assertSame("a\0b you are an *****", $v->censored);
        $this->assertNull(Engine::fromRules(self::fixture('good'))->scan($text)->censored);
    }

    public function testPostFieldsArePassedAndChecked(): void
    {
        $v = self::engine()->scan('You are an idiot', ['id' => 42, 'author' => 'u7', 'channel' => 'general',
            'ts' => 1700000000.5, 'age_days' => 3, 'edit' => true, 'censor' => true]);
        $this->assertSame(42, $v->id);
        $this->assertSame(Verdict::FLAG, $v->action);
        $this->assertSame('****************', $v->censored, 'the phrase rule covers the whole sentence');
        foreach ([['rol' => 'staff'], ['role' => 'admin'], ['ts' => -1], ['age_days' => 'old'], ['edit' => 1],
                     ['author' => [1]]] as $bad) {
            try {
                self::engine()->scan('hello', $bad);
                $this->fail('accepted ' . json_encode($bad));
            } catch (InvalidArgumentException $e) {
                $this->assertSame(-1, $e->getStatus());
            }
        }
    }

    public function testNullAndNonStringTextsAreClearErrors(): void
    {
        foreach ([null, 42, ['x']] as $bad) {
            try {
                self::engine()->scan($bad);
                $this->fail('accepted ' . var_export($bad, true));
            } catch (InvalidArgumentException $e) {
                $this->assertStringContainsString('must be a string', $e->getMessage());
            }
        }
        $this->expectException(InvalidArgumentException::class);
        self::engine()->scanMany(['fine', null]);
    }

    public function testTooLargePost(): void
    {
        $e = new Engine(['max_post_bytes' => 64]);
        $this->assertSame(Verdict::ALLOW, $e->scan(str_repeat('a', 64))->action);
        try {
            $e->scan(str_repeat('a', 65));
            $this->fail('a 65-byte post passed a 64-byte limit');
        } catch (PostTooLargeException $x) {
            $this->assertSame(-8, $x->getStatus());
            $this->assertStringContainsString('64', $x->getMessage());
        }
    }

    public function testScanManyMatchesScanAndKeepsKeys(): void
    {
        $e = self::engine();
        $posts = [];
        $texts = ['Hello there', 'You are an idiot', '', "We'll refund everyone by Friday", "bad \xFF utf8",
            'Buy cheap viagra now at http://pills.example.com today'];
        for ($i = 0; $i < 600; $i++) { // more than one batch
            $posts["p$i"] = ['text' => $texts[$i % count($texts)], 'role' => $i % 4 >= 2 ? 'member' : 'staff', 'id' => $i];
        }
        $out = $e->scanMany($posts);
        $this->assertSame(array_keys($posts), array_keys($out));
        foreach ($posts as $k => $p) {
            $one = $e->scan($p['text'], ['role' => $p['role'], 'id' => $p['id']]);
            $this->assertEquals($one, $out[$k], "post $k");
        }
        $this->assertSame(Verdict::HOLD, $out['p9']->action, 'a promise from staff');
        $this->assertSame(Verdict::ALLOW, $out['p3']->action, 'the same promise from a member');
        $this->assertSame(Verdict::FLAG, $out['p1']->action);
        $this->assertSame(1, $out['p4']->invalidUtf8);
        $plain = $e->scanMany(['You are an idiot', 'fine'], ['censor' => true]);
        $this->assertSame('****************', $plain[0]->censored);
        $this->assertSame('fine', $plain[1]->censored);
        $this->assertSame([], $e->scanMany([]));
    }

    public function testScanManyTooLargePost(): void
    {
        $e = new Engine(['max_post_bytes' => 16]);
        $posts = ['short', str_repeat('x', 17), 'You are an idiot'];
        $out = $e->scanMany($posts, [], 'return');
        $this->assertSame(Verdict::ALLOW, $out[0]->action);
        $this->assertInstanceOf(PostTooLargeException::class, $out[1]);
        $this->assertSame(1, $out[1]->getIndex());
        $this->assertSame(Verdict::FLAG, $out[2]->action);
        try {
            $e->scanMany($posts);
            $this->fail('no exception');
        } catch (PostTooLargeException $x) {
            $this->assertSame(1, $x->getIndex());
            $this->assertStringStartsWith('post 1: ', $x->getMessage());
        }
    }

    public function testFromRulesAndThresholds(): void
    {
        $e = Engine::fromRules(self::fixture('good'));
        $this->assertSame(2, $e->ruleCount());
        $this->assertSame(Verdict::REJECT, $e->scan('I will kill you')->action);
        $this->assertSame('abuse.threat', $e->scan('I will kill you')->hits[0]->category);
        $strict = Engine::fromRules(self::fixture('good'), ['flag_threshold' => 0.5, 'hold_threshold' => 1]);
        $this->assertSame(Verdict::HOLD, $strict->scan('idiot')->action);
        $this->expectException(InvalidArgumentException::class);
        new Engine(['flag_treshold' => 1]);
    }

    public function testRulesMistakeCarriesFileAndLine(): void
    {
        try {
            Engine::fromRules(self::fixture('bad'));
            $this->fail('a pack with a mistake compiled');
        } catch (RulesException $e) {
            $this->assertSame(-3, $e->getStatus());
            $this->assertSame(self::fixture('bad') . '/pack.toml', $e->getRuleFile());
            $this->assertSame(14, $e->getRuleLine());
            $this->assertStringContainsString('apocalyptic', $e->getMessage());
        }
        try {
            Engine::fromText("[pack]\nname = \"x\"\n[[rule]]\nid = \"a\"\nnonsense = 1\n");
            $this->fail('a pack with a mistake compiled');
        } catch (RulesException $e) {
            $this->assertSame('<memory>.toml', $e->getRuleFile());
            $this->assertIsInt($e->getRuleLine());
        }
    }

    public function testMissingRulesDirectory(): void
    {
        try {
            Engine::fromRules(self::fixture('no-such-dir'));
            $this->fail('a missing directory compiled');
        } catch (\Modfilter\ModfilterException $e) {
            $this->assertContains($e->getStatus(), [-4, -3]);
            $this->assertStringContainsString('no-such-dir', $e->getMessage());
        }
    }

    public function testClosedEngine(): void
    {
        $e = Engine::fromRules(self::fixture('good'));
        $e->close();
        $e->close();
        $this->expectException(InvalidArgumentException::class);
        $e->scan('x');
    }

    /** Whether byte offset $o of $t starts a character for mbstring (mb_substr can start there). */
    private static function mbBoundary(string $t, int $o): bool
    {
        return mb_substr($t, 0, mb_strlen(substr($t, 0, $o), 'UTF-8'), 'UTF-8') === substr($t, 0, $o);
    }

    /** @return int how many hits were checked (on character boundaries) */
    private function assertCharOffsetsMatchMbstring(string $text, Verdict $v): int
    {
        $checked = 0;
        foreach ($v->hits as $h) {
            if (!self::mbBoundary($text, $h->start) || !self::mbBoundary($text, $h->end)) {
                continue;
            }
            $checked++;
            $this->assertSame(substr($text, $h->start, $h->end - $h->start),
                mb_substr($text, $h->startChar, $h->endChar - $h->startChar, 'UTF-8'), bin2hex($text));
            $this->assertSame(mb_strlen(substr($text, 0, $h->start), 'UTF-8'), $h->startChar, bin2hex($text));
        }
        return $checked;
    }

    public function testCharOffsetsWithInvalidUtf8MatchMbSubstr(): void
    {
        $e = Engine::fromRules(self::fixture('good'));
        $prefixes = ["\x80\x80\x80 ", "caf\xC3 ", "\xC0\x80 ", "\xF8 ", "\xE2\x82 ", "\xF0\x9F\x98 ", "\xED\xA0\x80 ",
            "\xE0\x80\x80 ", "\xF4\x90\x80\x80 ", "\xFF\xFE ", "Très déçu 😡 中文 ", "é\x80中\xC3 😡 \xBF", "\xE2 ", "\xC3"];
        $checked = 0;
        foreach ($prefixes as $p) {
            foreach (["{$p}you are an idiot", "{$p}idiot and \x80 again idiot 中 \xF0\x9F idiot"] as $text) {
                $v = $e->scan($text);
                $this->assertNotEmpty($v->hits, bin2hex($text));
                $checked += $this->assertCharOffsetsMatchMbstring($text, $v);
                $this->assertEquals($v->hits, $e->scanMany([$text])[0]->hits, 'scanMany counts alike');
            }
        }
        $this->assertGreaterThan(35, $checked, 'most hits start on a character boundary');
        // The example of the bug report.
        $h = $e->scan("\x80\x80\x80 idiot")->hits[0];
        $this->assertSame([4, 9, 4, 9], [$h->start, $h->end, $h->startChar, $h->endChar]);
    }

    public function testCharOffsetsOnRandomInvalidUtf8(): void
    {
        $e = Engine::fromRules(self::fixture('good'));
        $bits = ['a', ' ', 'é', '中', '😡', "\x80", "\xBF", "\xC3", "\xC0", "\xE2\x82", "\xF0\x9F\x98", "\xF8", "\xFF",
            "\xED\xA0", ' idiot ', ' idiot '];
        mt_srand(20240611);
        $checked = 0;
        for ($i = 0; $i < 300; $i++) {
            $text = '';
            for ($j = mt_rand(1, 30); $j > 0; $j--) {
                $text .= $bits[mt_rand(0, count($bits) - 1)];
            }
            $checked += $this->assertCharOffsetsMatchMbstring($text, $e->scan($text));
        }
        $this->assertGreaterThan(100, $checked);
    }

    /** Without mbstring's lead byte table (PHP 8.3's mbstring decodes): maximal invalid subparts. */
    public function testCharOffsetsCountMaximalSubparts(): void
    {
        $p = new \ReflectionProperty(Engine::class, 'mbLead');
        $saved = $p->getValue();
        $p->setValue(null, null);
        try {
            $e = Engine::fromRules(self::fixture('good'));
            foreach (["\x80\x80\x80 " => 4, "caf\xC3 " => 5, "\xC0\x80 " => 3, "\xF8 " => 2, "\xE2\x82 " => 2,
                         "\xF0\x9F\x98 " => 2, "\xED\xA0\x80 " => 4, "\xE0\x80 " => 3, "\xF4\x90 " => 3, "é中😡 " => 4,
                         "\xE2 " => 2] as $prefix => $chars) {
                $h = $e->scan("{$prefix}idiot")->hits[0];
                $this->assertSame([$chars, $chars + 5], [$h->startChar, $h->endChar], bin2hex($prefix));
            }
        } finally {
            $p->setValue(null, $saved);
        }
    }

    public function testCharOffsetsOfValidMultibyteText(): void
    {
        $e = Engine::fromRules(self::fixture('good'));
        $text = str_repeat('中文é😡 ', 5000) . 'idiot ' . str_repeat('ü', 3000) . ' idiot';
        $v = $e->scan($text);
        $this->assertCount(2, $v->hits);
        $this->assertSame(2, $this->assertCharOffsetsMatchMbstring($text, $v));
    }
}
