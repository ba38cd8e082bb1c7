//! 书和代码的约定,由 `cargo test` 守着:
//! - 书里的 Rust 代码块只能 include 编译过的文件里的 ANCHOR,不能手抄;
//! - 每个 include 的文件和 ANCHOR 都存在,而且不是空的
//!   (mdBook 0.5 遇到不存在的 ANCHOR 会悄悄渲染出一个空代码块,不报错);
//! - 每一课都有自己的章节,骨架的开头指向它;
//! - 失败信息让学员去读的「某某」一节,在那一课的章节里真的有这个标题。

use std::fs;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("harness 在仓库的 tests/ 目录里")
        .to_owned()
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|err| panic!("无法读取 {}: {err}", path.display()))
}

/// book/src 下所有的 Markdown 章节:(路径, 内容)。
fn chapters() -> Vec<(PathBuf, String)> {
    let dir = root().join("book/src");
    let mut chapters: Vec<_> = fs::read_dir(&dir)
        .expect("book/src 存在")
        .map(|entry| entry.expect("目录项可读").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
        .map(|path| {
            let text = read(&path);
            (path, text)
        })
        .collect();
    chapters.sort();
    chapters
}

/// 一个 `{{#include 路径:锚点}}`。
struct Include {
    chapter: PathBuf,
    file: PathBuf,
    anchor: Option<String>,
}

fn includes(chapter: &Path, text: &str) -> Vec<Include> {
    text.match_indices("{{#include ")
        // `\{{#include …}}` 是写给读者看的例子,mdBook 原样显示它,不去引用。
        .filter(|(start, _)| !text[..*start].ends_with('\\'))
        .map(|(start, _)| {
            let rest = &text[start + "{{#include ".len()..];
            let spec = rest[..rest.find("}}").expect("include 以 }} 结尾")].trim();
            let (file, anchor) = match spec.split_once(':') {
                Some((file, anchor)) => (file, Some(anchor.to_owned())),
                None => (spec, None),
            };
            Include {
                chapter: chapter.to_owned(),
                file: chapter.parent().expect("章节在目录里").join(file),
                anchor,
            }
        })
        .collect()
}

/// ANCHOR 之间的代码(不含 ANCHOR 行)。
fn anchored<'a>(source: &'a str, anchor: &str) -> Option<Vec<&'a str>> {
    let begin = format!("ANCHOR: {anchor}");
    let end = format!("ANCHOR_END: {anchor}");
    let mut lines = source
        .lines()
        .skip_while(|l| !l.trim_end().ends_with(&begin));
    lines.next()?;
    let body: Vec<&str> = lines
        .by_ref()
        .take_while(|l| !l.trim_end().ends_with(&end))
        .collect();
    source.contains(&end).then_some(body)
}

/// 每个 include 的文件都存在;带锚点的,锚点存在且有代码;Rust 代码只能按锚点引用,不能按行号。
#[test]
fn every_include_in_the_book_points_at_real_non_empty_code() {
    let mut problems = Vec::new();
    for (path, text) in chapters() {
        for include in includes(&path, &text) {
            let shown = format!(
                "{}: {{{{#include {}{}}}}}",
                include.chapter.display(),
                include.file.display(),
                include
                    .anchor
                    .as_deref()
                    .map(|a| format!(":{a}"))
                    .unwrap_or_default()
            );
            let Ok(source) = fs::read_to_string(&include.file) else {
                problems.push(format!("{shown}: 文件不存在"));
                continue;
            };
            let is_rust = include.file.extension().is_some_and(|e| e == "rs");
            match (&include.anchor, is_rust) {
                (None, true) => problems.push(format!("{shown}: Rust 代码要按 ANCHOR 引用")),
                (None, false) => {}
                (Some(anchor), _) if anchor.chars().all(|c| c.is_ascii_digit() || c == ':') => {
                    problems.push(format!("{shown}: 不要按行号引用(行号会漂移),用 ANCHOR"));
                }
                (Some(anchor), _) => match anchored(&source, anchor) {
                    None => problems.push(format!(
                        "{shown}: 找不到 ANCHOR: {anchor} / ANCHOR_END: {anchor}"
                    )),
                    Some(body) if body.iter().all(|l| l.trim().is_empty()) => {
                        problems.push(format!("{shown}: ANCHOR 之间是空的"));
                    }
                    Some(_) => {}
                },
            }
        }
    }
    assert!(
        problems.is_empty(),
        "书里的 include 有问题:\n{}",
        problems.join("\n")
    );
}

/// 书里的 ```rust 代码块只包含 include:代码都来自编译过、测试过的文件。
#[test]
fn rust_code_in_the_book_is_included_never_pasted() {
    let mut problems = Vec::new();
    for (path, text) in chapters() {
        let mut in_rust = false;
        for (number, line) in text.lines().enumerate() {
            let trimmed = line.trim();
            if let Some(fence) = trimmed.strip_prefix("```") {
                in_rust = !in_rust && fence.trim().starts_with("rust");
                continue;
            }
            if in_rust && !trimmed.is_empty() && !trimmed.starts_with("{{#include ") {
                problems.push(format!("{}:{}: {line}", path.display(), number + 1));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "书里手抄了 Rust 代码(应该用 {{{{#include 文件:锚点}}}}):\n{}",
        problems.join("\n")
    );
}

/// 每一课都有章节,章节在目录里,骨架和参考答案的开头都指向它。
#[test]
fn every_lesson_has_a_chapter_that_its_crates_point_to() {
    let summary = read(&root().join("book/src/SUMMARY.md"));
    for lesson in harness::LESSONS {
        let chapter = root().join(lesson.chapter);
        assert!(
            chapter.exists(),
            "第 {} 课的章节 {} 不存在",
            lesson.number,
            lesson.chapter
        );
        let file_name = lesson.chapter.trim_start_matches("book/src/");
        assert!(
            summary.contains(&format!("({file_name})")),
            "SUMMARY.md 里没有 {file_name}"
        );
        for side in ["lessons", "solutions"] {
            let dir = fs::read_dir(root().join(side))
                .expect("目录存在")
                .map(|e| e.expect("目录项可读").path())
                .find(|p| {
                    p.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with(lesson.number))
                })
                .unwrap_or_else(|| panic!("{side}/ 里没有第 {} 课", lesson.number));
            let main = read(&dir.join("src/main.rs"));
            assert!(
                main.contains(lesson.chapter),
                "{}/src/main.rs 的开头应该写明课本 {}",
                dir.display(),
                lesson.chapter
            );
            // 反过来,章节也要写明它的练习和参考答案在哪(书是离线的静态网页,
            // 链接不到仓库里的文件,所以写路径)。
            let name = dir.file_name().expect("有名字").to_string_lossy();
            let crate_path = format!("{side}/{name}");
            assert!(
                read(&chapter).contains(&crate_path),
                "{} 应该写明 {crate_path} 在哪",
                lesson.chapter
            );
        }
    }
}

/// 失败信息里的「阅读:某章,「某某」一节」必须真的能在那一章里找到这个标题。
#[test]
fn sections_named_by_failure_messages_exist() {
    let sources = root().join("tests/src");
    // 一课的评分器是 lessonNN.rs,或者(大了以后)一个文件夹 lessonNN/,里面的文件合起来算。
    let grader_source = |file: &str| -> String {
        let path = sources.join(file);
        let folder = path.with_extension("");
        if path.exists() || !folder.is_dir() {
            return read(&path);
        }
        let mut parts: Vec<_> = std::fs::read_dir(&folder)
            .expect("能读评分器的文件夹")
            .map(|entry| entry.expect("能读目录项").path())
            .collect();
        parts.sort();
        parts.iter().map(|part| read(part)).collect()
    };
    let sections_in = |file: &str| -> Vec<String> {
        let text = grader_source(file);
        text.match_indices(".read(\"")
            .map(|(i, m)| {
                let rest = &text[i + m.len()..];
                rest[..rest.find('"').expect("字符串有结尾")].to_owned()
            })
            .collect()
    };
    let mut problems = Vec::new();
    for lesson in harness::LESSONS {
        let grader = format!("lesson{}.rs", lesson.number);
        let mut wanted = sections_in(&grader);
        // udp.rs 里的共享检查(回声)会出现在每一个用到它的服务器课里。
        let grader_text = grader_source(&grader);
        let uses_udp_checks = grader_text
            .lines()
            .any(|l| l.starts_with("use crate::udp::") && l.contains("expect_"));
        if uses_udp_checks {
            wanted.extend(sections_in("udp.rs"));
        }
        let chapter = read(&root().join(lesson.chapter));
        for section in wanted {
            let heading = chapter
                .lines()
                .any(|l| l.starts_with('#') && l.trim_start_matches('#').trim() == section);
            if !heading {
                problems.push(format!("{} 里没有标题「{section}」", lesson.chapter));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// 「给老师」里每一课的分值表,和评分器里每一项的分值一致(改了评分器,忘了改书,这里会发现)。
#[test]
fn the_teachers_points_table_matches_the_graders() {
    let teachers = read(&root().join("book/src/teachers.md"));
    let mut totals = Vec::new();
    for lesson in harness::LESSONS {
        let points: Vec<String> = lesson.steps.iter().map(|s| s.points.to_string()).collect();
        let total: u32 = lesson.steps.iter().map(|s| s.points).sum();
        let row = format!(
            "| {} | {} | {total} |",
            lesson.steps.len(),
            points.join("、")
        );
        assert!(
            teachers.contains(&row),
            "book/src/teachers.md 里第 {} 课的分值表应该是「{row}」",
            lesson.display_number()
        );
        totals.push(total.to_string());
    }
    let sums = format!("（{}）", totals.join("、"));
    assert!(
        teachers.contains(&sums),
        "book/src/teachers.md 里 Classroom 满分的那一句应该是「{sums}」"
    );
}

/// `book.toml` 里一节一节的设置:`[preprocessor.mermaid]` → ("preprocessor.mermaid", [(键, 值)])。
/// 书的配置只用到「键 = 值」和注释,这么简单的格式不值得为它加一个 TOML 库。
fn toml_sections(text: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut sections: Vec<(String, Vec<(String, String)>)> = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            sections.push((name.to_owned(), Vec::new()));
        } else if let (Some((key, value)), Some((_, entries))) =
            (line.split_once('='), sections.last_mut())
        {
            entries.push((key.trim().to_owned(), value.trim().to_owned()));
        }
    }
    sections
}

/// README 里用 `cargo install` 装的 crate 的名字(`mdbook@0.5.4` → `mdbook`)。
fn crates_installed_by_readme(readme: &str) -> Vec<String> {
    let mut crates = Vec::new();
    for line in readme.lines() {
        let Some((_, rest)) = line.split_once("cargo install") else {
            continue;
        };
        let mut words = rest.split_whitespace();
        while let Some(word) = words.next() {
            match word {
                "#" => break,
                // 带值的选项:值不是 crate。
                "--features" | "--version" | "--root" | "--git" | "--path" => {
                    words.next();
                }
                flag if flag.starts_with('-') => {}
                spec => crates.push(spec.split('@').next().unwrap_or(spec).to_owned()),
            }
        }
    }
    crates
}

/// 照着 README 装好的东西就能构建、预览这本书:book.toml 里的每个预处理器和渲染器,
/// 要么由 README 的某条 `cargo install` 装上,要么标着 `optional = true`(没装时 mdBook 只打一行
/// WARN)。additional-js 里不进版本库的文件,要由 README 里的命令生成。
/// (issue 14:README 漏了 mdbook-linkcheck2,照着 README 做的人一运行 `mdbook serve` 就失败。)
#[test]
fn the_books_plugins_are_installed_by_the_readme_or_optional() {
    let readme = read(&root().join("README.md"));
    let installed = crates_installed_by_readme(&readme);
    assert!(
        installed.iter().any(|c| c == "mdbook"),
        "README 里应该有一条 `cargo install … mdbook@…`,实际找到的是 {installed:?}"
    );
    let book = root().join("book");
    let mut problems = Vec::new();
    for (name, entries) in toml_sections(&read(&book.join("book.toml"))) {
        let get = |key: &str| {
            entries
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.trim_matches('"'))
        };
        if let Some(plugin) = name
            .strip_prefix("preprocessor.")
            .or_else(|| name.strip_prefix("output."))
        {
            // html 是 mdBook 自己的渲染器;output.html.search 之类是它的子设置。
            if plugin == "html" || plugin.starts_with("html.") {
                continue;
            }
            // mdBook 默认运行 `mdbook-<名字>`;这几个插件的 crate 和命令同名。
            let command = get("command")
                .and_then(|c| c.split_whitespace().next())
                .map_or(format!("mdbook-{plugin}"), str::to_owned);
            let optional = get("optional") == Some("true");
            if !optional && !installed.contains(&command) {
                problems.push(format!(
                    "[{name}] 要运行 {command},可 README 没有安装它,它也没有标 optional = true"
                ));
            }
        }
        if name == "output.html"
            && let Some(list) = get("additional-js")
        {
            let generated = fs::read_to_string(book.join(".gitignore")).unwrap_or_default();
            for file in list.trim_matches(['[', ']']).split(',') {
                let file = file.trim().trim_matches('"');
                let ignored = generated.lines().any(|l| l.trim_start_matches('/') == file);
                if !ignored && !book.join(file).is_file() {
                    problems.push(format!("additional-js 里的 book/{file} 不存在"));
                }
                if ignored
                    && file.starts_with("mermaid")
                    && !readme.contains("mdbook-mermaid install book")
                {
                    problems.push(format!(
                        "book/{file} 不进版本库,由 `mdbook-mermaid install book` 生成,可 README 里没有这条命令"
                    ));
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "照着 README 装好的工具构建不了书:\n{}",
        problems.join("\n")
    );
}

/// 课号只有一个写法:侧栏(SUMMARY.md)、章节的一级标题和失败信息的「阅读:」一行都是
/// `Lesson::chapter_title()`,比如「第 1 课 · UDP 服务器」;侧栏也不另外自动编号
/// (否则「Socket 基础」占了 1,第 1 课在侧栏里就成了「2.」,issue 14 第 3 条)。
#[test]
fn the_sidebar_the_chapters_and_the_graders_agree_on_lesson_numbers() {
    let summary = read(&root().join("book/src/SUMMARY.md"));
    let toml = read(&root().join("book/book.toml"));
    assert!(
        toml.lines().any(|l| l.trim() == "no-section-label = true"),
        "book/book.toml 的 [output.html] 要有 no-section-label = true:侧栏的自动编号和课号对不上"
    );
    for lesson in harness::LESSONS {
        let title = lesson.chapter_title();
        let file_name = lesson.chapter.trim_start_matches("book/src/");
        let entry = format!("[{title}]({file_name})");
        assert!(
            summary
                .lines()
                .any(|l| l.trim_start().starts_with(&format!("- {entry}"))),
            "SUMMARY.md 里第 {} 课应该是「- {entry}」",
            lesson.display_number()
        );
        let chapter = read(&root().join(lesson.chapter));
        let h1 = chapter.lines().next().unwrap_or_default();
        assert_eq!(
            h1,
            format!("# {title}"),
            "{} 的一级标题应该和评分器说的课名一样",
            lesson.chapter
        );
    }
}

/// 源文件里 `ANCHOR: name` 到 `ANCHOR_END: name` 的行号范围(含两头),每个同名锚点一段。
fn anchor_ranges(source: &str, wanted: impl Fn(&str) -> bool) -> Vec<(String, usize, usize)> {
    let lines: Vec<&str> = source.lines().collect();
    let mut ranges = Vec::new();
    for (begin, line) in lines.iter().enumerate() {
        let Some((_, name)) = line.split_once("ANCHOR: ") else {
            continue;
        };
        let name = name.trim();
        if !wanted(name) {
            continue;
        }
        let end_mark = format!("ANCHOR_END: {name}");
        if let Some(offset) = lines[begin..]
            .iter()
            .position(|l| l.trim_end().ends_with(&end_mark))
        {
            ranges.push((name.to_owned(), begin, begin + offset));
        }
    }
    ranges
}

/// 参考答案讲解单独一页:往下翻找帮助的学员不会一眼看到答案(issue 14)。每一课的章节
/// 最后用一句「先自己做完」链到 `NN-名字-answer.md`,那一页在目录里;章节本身只引用骨架里
/// 也有的代码:引用的锚点不能碰到学员要写的 `step-N` 那几行。
#[test]
fn each_lessons_answers_live_on_their_own_page() {
    let summary = read(&root().join("book/src/SUMMARY.md"));
    let mut problems = Vec::new();
    for lesson in harness::LESSONS {
        let chapter_path = root().join(lesson.chapter);
        let chapter = read(&chapter_path);
        let answer = lesson
            .chapter
            .trim_start_matches("book/src/")
            .replace(".md", "-answer.md");
        let n = lesson.display_number();
        if !root().join("book/src").join(&answer).is_file() {
            problems.push(format!("第 {n} 课的参考答案讲解 book/src/{answer} 不存在"));
        }
        let entry = format!("- [第 {n} 课 · 参考答案讲解]({answer})");
        if !summary.lines().any(|l| l.trim() == entry) {
            problems.push(format!("SUMMARY.md 里没有「{entry}」"));
        }
        if chapter
            .lines()
            .any(|l| l.starts_with('#') && l.contains("参考答案讲解"))
        {
            problems.push(format!("{} 里还有「参考答案讲解」一节", lesson.chapter));
        }
        let link = format!("]({answer})");
        if !chapter
            .lines()
            .any(|l| l.contains("先自己做完") && l.contains(&link))
        {
            problems.push(format!(
                "{} 的最后要有一句「先自己做完」,链到 {answer}",
                lesson.chapter
            ));
        }
        for include in includes(&chapter_path, &chapter) {
            let (Some(anchor), Ok(source)) = (&include.anchor, fs::read_to_string(&include.file))
            else {
                continue;
            };
            let steps = anchor_ranges(&source, |name| name.starts_with("step-"));
            for (_, begin, end) in anchor_ranges(&source, |name| name == anchor) {
                for (step, step_begin, step_end) in &steps {
                    if begin <= *step_end && *step_begin <= end {
                        problems.push(format!(
                            "{} 引用了 {}:{anchor},其中有学员要写的 {step}:这段只能放在 {answer} 里",
                            lesson.chapter,
                            include.file.display()
                        ));
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// 一个 JSON 值。只给下面的测试读 `book/src/examples/01-report.json` 用:为一个测试
/// 加一个 JSON 库不值得,而这个文件只用到 JSON 最基本的几样东西。
#[derive(Debug)]
enum Json {
    Null,
    Number(u128),
    Text(String),
    List(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    fn parse(text: &str) -> Json {
        let mut chars = text.trim().chars().peekable();
        let value = Json::value(&mut chars);
        assert!(chars.next().is_none(), "JSON 后面还有多余的字符");
        value
    }

    fn value(chars: &mut std::iter::Peekable<std::str::Chars>) -> Json {
        match chars.peek().copied() {
            Some('{') => {
                chars.next();
                let mut fields = Vec::new();
                while chars.peek() != Some(&'}') {
                    let Json::Text(key) = Json::value(chars) else {
                        panic!("对象的键要是字符串");
                    };
                    assert_eq!(chars.next(), Some(':'));
                    fields.push((key, Json::value(chars)));
                    if chars.peek() == Some(&',') {
                        chars.next();
                    }
                }
                chars.next();
                Json::Object(fields)
            }
            Some('[') => {
                chars.next();
                let mut items = Vec::new();
                while chars.peek() != Some(&']') {
                    items.push(Json::value(chars));
                    if chars.peek() == Some(&',') {
                        chars.next();
                    }
                }
                chars.next();
                Json::List(items)
            }
            Some('"') => {
                chars.next();
                let mut text = String::new();
                loop {
                    match chars.next().expect("字符串没有结尾") {
                        '"' => break,
                        '\\' => match chars.next().expect("转义没有结尾") {
                            'n' => text.push('\n'),
                            'r' => text.push('\r'),
                            't' => text.push('\t'),
                            'u' => {
                                let hex: String = chars.by_ref().take(4).collect();
                                let code =
                                    u32::from_str_radix(&hex, 16).expect("\\u 后面是 4 位十六进制");
                                text.push(char::from_u32(code).expect("合法的字符"));
                            }
                            c => text.push(c),
                        },
                        c => text.push(c),
                    }
                }
                Json::Text(text)
            }
            Some('n') => {
                let word: String = chars.by_ref().take(4).collect();
                assert_eq!(word, "null");
                Json::Null
            }
            _ => {
                let mut digits = String::new();
                while let Some(c) = chars.next_if(char::is_ascii_digit) {
                    digits.push(c);
                }
                Json::Number(digits.parse().expect("这个文件里的数字都是非负整数"))
            }
        }
    }

    fn get(&self, key: &str) -> &Json {
        match self {
            Json::Object(fields) => fields
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v)
                .unwrap_or_else(|| panic!("报告里没有 {key}")),
            _ => panic!("不是对象"),
        }
    }

    fn text(&self) -> Option<String> {
        match self {
            Json::Text(text) => Some(text.clone()),
            _ => None,
        }
    }

    fn number(&self) -> u128 {
        match self {
            Json::Number(n) => *n,
            other => panic!("{other:?} 不是数字"),
        }
    }
}

/// 「给老师」里的 JSON 报告样例不是手抄的:它从 `book/src/examples/01-report.json` 引用,
/// 那一行由 `.ci/examples` 用评分器真实地跑出来。这里核对它和评分框架现在写出的一模一样:
/// 按样例里每一项的结果重新生成一份报告,`Report::to_json` 的输出必须和样例逐字相同。
/// 改了检查的名字、分值、项数或者报告的格式,这个测试就会失败,提醒你重新生成样例。
#[test]
fn the_teachers_report_sample_is_what_the_harness_writes() {
    use harness::report::StepReport;
    let teachers = read(&root().join("book/src/teachers.md"));
    assert!(
        teachers.contains("{{#include examples/01-report.json}}"),
        "book/src/teachers.md 的报告样例要从 examples/01-report.json 引用,不要手抄"
    );
    assert!(
        !teachers.contains("{\"lesson\":"),
        "book/src/teachers.md 里还有手抄的 JSON 报告"
    );
    let sample = read(&root().join("book/src/examples/01-report.json"));
    let line = sample.trim_end();
    assert!(!line.contains('\n'), "报告是一行 JSON");
    let json = Json::parse(line);
    let number = json.get("lesson").text().expect("lesson 是字符串");
    let lesson = harness::lesson(&number).expect("样例里的课号存在");
    let Json::List(steps) = json.get("steps") else {
        panic!("steps 是数组");
    };
    assert_eq!(
        steps.len(),
        lesson.steps.len(),
        "样例的检查项数和第 {number} 课的评分器不一样:运行 .ci/examples --bless"
    );
    let report = harness::Report {
        lesson: lesson.number,
        title: lesson.title,
        program: json.get("program").text().expect("program 是字符串"),
        steps: steps
            .iter()
            .zip(lesson.steps)
            .enumerate()
            .map(|(i, (step, real))| StepReport {
                number: i + 1,
                name: real.name,
                points: real.points,
                status: match step.get("status").text().as_deref() {
                    Some("passed") => harness::Status::Passed,
                    Some("failed") => harness::Status::Failed,
                    Some("not_run") => harness::Status::NotRun,
                    Some("skipped") => harness::Status::Skipped,
                    other => panic!("不认识的结果 {other:?}"),
                },
                millis: step.get("millis").number(),
                attempts: step.get("attempts").number() as usize,
                headline: step.get("headline").text(),
                message: step.get("message").text(),
            })
            .collect(),
    };
    let expected = report.to_json();
    let differ = expected
        .char_indices()
        .zip(line.chars())
        .find(|((_, a), b)| a != b)
        .map_or(expected.len().min(line.len()), |((at, _), _)| at);
    let around = |text: &str| -> String { text[differ..].chars().take(60).collect() };
    assert!(
        expected == line,
        "book/src/examples/01-report.json 和评分框架现在写出的报告不一样(检查的名字、分值或格式变了),\
         从「{}」这里开始;评分框架写的是「{}」。运行 .ci/examples --bless 重新生成它",
        around(line),
        around(&expected)
    );
    assert!(
        report.first_failure().is_some(),
        "样例要演示失败的检查(有 headline 和 message)"
    );
    // 字段表里每个字段都要有一行:报告加了字段,书也要说它是什么。
    let keys = |value: &Json| -> Vec<String> {
        match value {
            Json::Object(fields) => fields.iter().map(|(k, _)| k.clone()).collect(),
            _ => Vec::new(),
        }
    };
    let mut missing: Vec<String> = keys(&json)
        .into_iter()
        .map(|k| format!("| `{k}` |"))
        .chain(
            keys(&steps[0])
                .into_iter()
                .map(|k| format!("| `steps[].{k}` |")),
        )
        .filter(|row| !teachers.contains(row.as_str()))
        .collect();
    missing.dedup();
    assert!(
        missing.is_empty(),
        "book/src/teachers.md 的字段表里缺了这些字段:{missing:?}"
    );
}

/// 中文旁边该用全角、却用了半角的标点:返回第一个的位置和它前后的一小段。规则和
/// `.ci/fullwidth`(把评分器里的字符串改成全角的脚本)一样:挨着汉字的 , ; 和不跟空格的 :,
/// 汉字后面的 ? !,挨着汉字的 ( 和与它配对的 )。「…」『…』和 `…` 里是照抄的原文,不管;
/// 「消息: 文字」这样后面跟空格的冒号是协议的原文,也不管。
fn half_width_next_to_chinese(text: &str) -> Option<String> {
    let han = |c: char| matches!(c, '\u{3400}'..='\u{9fff}' | '\u{f900}'..='\u{faff}');
    let wide = |c: char| han(c) || "「」『』、。，：；（）！？…—".contains(c);
    let chars: Vec<char> = text.chars().collect();
    let mut parens = Vec::new();
    let mut closing: Option<char> = None;
    for (i, &c) in chars.iter().enumerate() {
        let prev = i.checked_sub(1).map(|p| chars[p]);
        let next = chars.get(i + 1).copied();
        let near = |test: &dyn Fn(char) -> bool| prev.is_some_and(test) || next.is_some_and(test);
        if let Some(end) = closing {
            if c == end {
                closing = None;
            }
            continue;
        }
        let bad = match c {
            '「' => {
                closing = Some('」');
                false
            }
            '『' => {
                closing = Some('』');
                false
            }
            '`' => {
                closing = Some('`');
                false
            }
            ',' => next != Some(' ') && near(&wide),
            ':' => next != Some(' ') && prev != Some(':') && next != Some(':') && near(&wide),
            ';' => near(&wide),
            '?' | '!' => prev.is_some_and(han),
            '(' => {
                let flagged = prev.is_some_and(han) || next.is_some_and(han);
                parens.push(flagged);
                flagged
            }
            ')' => parens.pop().unwrap_or_else(|| prev.is_some_and(han)),
            _ => false,
        };
        if bad {
            let from = i.saturating_sub(8);
            let to = (i + 8).min(chars.len());
            return Some(chars[from..to].iter().collect());
        }
    }
    None
}

/// 正文用全角标点,标题、目录、图上的字、检查的名字、规则清单和例子(它们都出现在课本的
/// 表格里)也用全角,一张表里不再两种标点混着(issue 14)。评分器里的字符串用
/// `.ci/fullwidth` 改,改完运行 `cargo run -p course -- dev rules` 重新生成规则表。
#[test]
fn punctuation_next_to_chinese_is_full_width() {
    let mut problems = Vec::new();
    let mut check = |place: String, text: &str| {
        if let Some(around) = half_width_next_to_chinese(text) {
            problems.push(format!("{place}: 「{around}」"));
        }
    };
    for (path, text) in chapters() {
        let name = path
            .file_name()
            .expect("有名字")
            .to_string_lossy()
            .into_owned();
        let mut fence: Option<String> = None;
        for (n, line) in text.lines().enumerate() {
            let place = format!("book/src/{name}:{}", n + 1);
            if let Some(info) = line.trim().strip_prefix("```") {
                fence = match fence {
                    Some(_) => None,
                    None => Some(info.trim().to_owned()),
                };
                continue;
            }
            match fence.as_deref() {
                Some("mermaid") => check(place, line),
                None if line.starts_with('#') => check(place, line),
                None if name == "SUMMARY.md" => {
                    if let Some((title, _)) = line.split_once("](") {
                        check(place, title);
                    }
                }
                _ => {}
            }
        }
    }
    for lesson in harness::LESSONS {
        let n = lesson.display_number();
        for (i, step) in lesson.steps.iter().enumerate() {
            check(format!("第 {n} 课第 {} 项检查的名字", i + 1), step.name);
        }
        for rule in lesson.rules {
            check(format!("第 {n} 课的规则 {}", rule.id), rule.rule);
        }
    }
    for case in harness::fixtures::CASES.iter() {
        check(format!("例子 {} 的说明", case.program), case.mistake);
    }
    assert!(
        problems.is_empty(),
        "中文旁边用了半角标点(评分器里的字符串可以用 .ci/fullwidth 改):\n{}",
        problems.join("\n")
    );
}

/// 第 1 到第 5 课「运行与评分」的表格里,第一列就是评分器的检查名,一字不差、按顺序:
/// 检查名只有评分器里那一份,书跟着它(改了名字,这里会提醒你改书)。
#[test]
fn the_chapters_check_tables_use_the_graders_names() {
    let mut problems = Vec::new();
    for lesson in harness::LESSONS {
        let chapter = read(&root().join(lesson.chapter));
        let Some(table) = chapter.split("| 检查项 | 检查什么 | 为什么要紧 |").nth(1)
        else {
            continue; // 第 6 课的表按编号列出检查
        };
        let rows: Vec<&str> = table
            .lines()
            .skip(2)
            .take_while(|l| l.starts_with('|'))
            .map(|l| {
                l.trim_start_matches('|')
                    .split(" | ")
                    .next()
                    .unwrap_or_default()
                    .trim()
            })
            .collect();
        let names: Vec<&str> = lesson.steps.iter().map(|s| s.name).collect();
        if rows != names {
            problems.push(format!(
                "{} 的检查表第一列应该依次是评分器的检查名:\n  书里:{rows:?}\n  评分器:{names:?}",
                lesson.chapter
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// mdBook 给标题生成的锚点:小写,空格变成 `-`,只留字母、数字(包括汉字)、`-` 和 `_`。
fn heading_slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// 书里每个带 `#锚点` 的链接(本页的,或者别的 .md 的),目标页上都真有这个标题。
/// linkcheck 只查文件在不在,不查锚点:答案挪到自己的一页以后,指向旧标题的链接就悄悄失效了。
#[test]
fn every_link_to_a_section_finds_its_heading() {
    let chapters = chapters();
    let slugs_of = |name: &str| -> Option<Vec<String>> {
        let (_, text) = chapters
            .iter()
            .find(|(path, _)| path.file_name().is_some_and(|f| f == name))?;
        Some(
            text.lines()
                .filter(|l| l.starts_with('#'))
                .map(|l| heading_slug(l.trim_start_matches('#')))
                .collect(),
        )
    };
    let mut problems = Vec::new();
    let mut checked = 0;
    for (path, text) in &chapters {
        let page = path.file_name().expect("章节有文件名").to_string_lossy();
        for (i, _) in text.match_indices("](") {
            let rest = &text[i + 2..];
            let Some(end) = rest.find(')') else { continue };
            let Some((file, fragment)) = rest[..end].split_once('#') else {
                continue;
            };
            if file.contains("://") || !(file.is_empty() || file.ends_with(".md")) {
                continue;
            }
            let target = if file.is_empty() { page.as_ref() } else { file };
            checked += 1;
            match slugs_of(target) {
                None => problems.push(format!("{page}:链接指向不存在的 {target}")),
                Some(slugs) if !slugs.iter().any(|s| s == fragment) => {
                    problems.push(format!("{page}:{target} 里没有标题对应锚点 #{fragment}"))
                }
                Some(_) => {}
            }
        }
    }
    assert!(
        checked > 20,
        "只找到 {checked} 个带锚点的链接,找的办法坏了?"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
