//! 检查本身的测试:issue 14 的两处真实错误,以及几种不该报的写法。

use super::*;

fn problems_in(todo: &str, solution: &str) -> Vec<String> {
    let lines: Vec<String> = todo.lines().map(str::to_owned).collect();
    let block = Block::find(solution, 1).expect("有第 1 步");
    let consts = ["HELP".to_owned()].into_iter().collect();
    compare(&Todo::parse(&lines), &block, &consts)
}

/// issue 14 之前第 6 课第 6 步的样子(简化):TODO 让学员写 `stream.try_clone()?`,
/// 可这一块在一个返回 Option 的函数里,参考答案用的是 let-else。
#[test]
fn a_question_mark_the_function_cannot_return_is_caught() {
    let todo = "    // TODO: 第 1 步:问昵称。\n    //   - room.join(id, 昵称, outbox.clone(), stream.try_clone()?):\n    //     Err(重名)→ 回一行「! 原因」,接着等。\n    todo!()\n";
    let solution = "fn choose_nick(stream: &TcpStream, room: &Room) -> Option<String> {\n    // ANCHOR: step-1\n    let Ok(stream) = stream.try_clone() else {\n        return None;\n    };\n    match room.join(id, nick, outbox.clone(), stream) {\n        Ok(_) => Some(nick),\n        Err(why) => None,\n    }\n    // ANCHOR_END: step-1\n}\n";
    let problems = problems_in(todo, solution);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(problems[0].contains("try_clone"), "{problems:#?}");
    assert!(problems[0].contains("E0277"), "{problems:#?}");
}

/// issue 14:第 6 课第 7 步说「tell HELP」,可评分器要的是以「* 」开头的一行。
#[test]
fn a_constant_sent_with_a_prefix_is_caught() {
    let todo = "    // TODO: 第 1 步:命令。\n    //       Command::Help → tell HELP;Command::Quit → tell「* 再见!」然后返回\n";
    let solution = "fn chat(room: &Room) -> Result<()> {\n    // ANCHOR: step-1\n    match command {\n        Command::Help => room.tell(id, &format!(\"* {HELP}\")),\n        Command::Quit => {\n            room.tell(id, \"* 再见!\");\n            return Ok(());\n        }\n    }\n    // ANCHOR_END: step-1\n}\n";
    let problems = problems_in(todo, solution);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(problems[0].contains("「* {HELP}」"), "{problems:#?}");
    // 照参考答案的样子写,就没有问题了。
    let fixed = todo.replace("tell HELP", "tell「* {HELP}」");
    assert_eq!(problems_in(&fixed, solution), Vec::<String>::new());
}

#[test]
fn an_api_the_solution_does_not_use_is_caught_unless_it_is_a_counter_example() {
    let solution = "fn read(stream: &TcpStream) -> Result<Vec<u8>> {\n    // ANCHOR: step-1\n    let mut reader = BufReader::new(stream.take(MAX));\n    let mut reply = Vec::new();\n    reader.read_until(b'\\n', &mut reply)?;\n    Ok(reply)\n    // ANCHOR_END: step-1\n}\n";
    let good = "    // TODO: 第 1 步:用 BufReader::new(stream.take(MAX)) 再 read_until(b'\\n', &mut reply)。\n    //   - 不要用 read_to_end 等连接关闭。\n";
    assert_eq!(problems_in(good, solution), Vec::<String>::new());
    let bad = "    // TODO: 第 1 步:用 read_to_end 读完整个回复。\n";
    let problems = problems_in(bad, solution);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(problems[0].contains("read_to_end"), "{problems:#?}");
}

#[test]
fn a_call_with_the_wrong_number_of_arguments_is_caught() {
    let solution = "fn writer(outbox: &Outbox) -> Result<()> {\n    // ANCHOR: step-1\n    while let Take::Lines(rest, lines) = outbox.take() {}\n    Ok(())\n    // ANCHOR_END: step-1\n}\n";
    let todo = "    // TODO: 第 1 步:while let Take::Lines(lines) = outbox.take() { … }\n";
    let problems = problems_in(todo, solution);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(problems[0].contains("Take::Lines"), "{problems:#?}");
}

#[test]
fn a_bare_question_mark_needs_a_function_that_returns_result() {
    let solution = "fn serve(socket: &UdpSocket) {\n    // ANCHOR: step-1\n    loop {}\n    // ANCHOR_END: step-1\n}\n";
    let todo = "    // TODO: 第 1 步:出错时用 ? 返回。\n";
    let problems = problems_in(todo, solution);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(problems[0].contains("serve"), "{problems:#?}");
}

#[test]
fn messages_match_format_strings_with_placeholders() {
    assert!(starts_like("* 在线 {} 人: {}", "* 在线 N 人: a, b"));
    assert!(starts_like("! {},你被断开了", "! 原因,你被断开了"));
    assert!(starts_like(
        "{peer} 在 {} 秒内没有发完一行,断开它",
        "{peer} 在 N 秒内没有发完一行"
    ));
    assert!(!starts_like("* {HELP}", "命令"));
    assert!(!starts_like("! {why}", "* 原因"));
}

#[test]
fn the_lexer_keeps_strings_and_skips_comments_and_lifetimes() {
    let tokens = lex(
        "fn f<'a>(x: &'a str) -> char { // 注释 tell()\n let c = '\\n'; g(\"a\\\"b{x}\", r#\"raw\"#) }",
    );
    assert!(tokens.contains(&Tok::Str("a\"b{x}".to_owned())));
    assert!(tokens.contains(&Tok::Str("raw".to_owned())));
    assert!(!tokens.contains(&Tok::Ident("tell".to_owned())));
    assert!(!tokens.contains(&Tok::Ident("a".to_owned())));
}
