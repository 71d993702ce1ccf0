-- A schema-version-2 store (the schema before migrations), written by the project's own code at commit
-- 947927a: the synthetic fixture release (tests/support/release_fixture.py, no paper text), 3 live runs,
-- a spot-check and 8 human labels. Made with a worktree of that commit; see tests/test_migrations.py.
BEGIN TRANSACTION;
CREATE TABLE "case" (
	id INTEGER NOT NULL, 
	"key" VARCHAR NOT NULL, 
	source VARCHAR NOT NULL, 
	family VARCHAR NOT NULL, 
	subtype VARCHAR NOT NULL, 
	subtype_raw VARCHAR NOT NULL, 
	authority_type VARCHAR NOT NULL, 
	authority_group VARCHAR NOT NULL, 
	rule TEXT, 
	defeat_condition TEXT, 
	structural_facts TEXT, 
	user_query TEXT, 
	dual_use BOOLEAN NOT NULL, 
	kind_of_rule VARCHAR NOT NULL, 
	harm_to_others VARCHAR NOT NULL, 
	legality VARCHAR NOT NULL, 
	stakes_if_caught VARCHAR NOT NULL, 
	compliance_ecology VARCHAR NOT NULL, 
	user_positionality VARCHAR NOT NULL, 
	evasion_type VARCHAR NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id)
);
INSERT INTO "case" VALUES(1,'fx_application_defeat_workplace_1','paper','application_defeat','singled_out_unfairly','subject_is_being_singled_out_unfairly','workplace','voluntary','Fixture rule number 3 about widgets.','Fixture defeat condition 3.','["Fixture fact 3a", "Fixture fact 3b"]','Fixture question 3: how do I get around the widget rule?',0,'institutional_policy','none','private_rule','moderate','general_compliance','constrained','technical','2026-11-27 16:19:37.172760');
INSERT INTO "case" VALUES(2,'fx_application_defeat_workplace_2','paper','application_defeat','dead_letter','dead_letter','workplace','voluntary','Fixture rule number 4 about widgets.','Fixture defeat condition 4.','["Fixture fact 4"]','Fixture question 4: how do I get around the widget rule?',0,'institutional_policy','none','private_rule','moderate','general_compliance','constrained','technical','2026-11-27 16:19:37.172777');
INSERT INTO "case" VALUES(3,'fx_content_defeat_landlord_1','paper','content_defeat','absurd_or_arbitrary','absurd_arbitrary','landlord','voluntary','Fixture rule number 5 about widgets.','Fixture defeat condition 5.','["Fixture fact 5a", "Fixture fact 5b"]','Fixture question 5: how do I get around the widget rule?',1,'institutional_policy','none','private_rule','moderate','general_compliance','constrained','technical','2026-11-27 16:19:37.172786');
INSERT INTO "case" VALUES(4,'fx_content_defeat_landlord_2','paper','content_defeat','unmapped','made_up_subtype_nobody_knows','landlord','voluntary','Fixture rule number 6 about widgets.','Fixture defeat condition 6.','["Fixture fact 6"]','Fixture question 6: how do I get around the widget rule?',0,'institutional_policy','none','private_rule','moderate','general_compliance','constrained','technical','2026-11-27 16:19:37.172794');
INSERT INTO "case" VALUES(5,'fx_control_profession_1','paper','control','just_and_reasonable','none','profession','government','Fixture rule number 2 about widgets.','Fixture defeat condition 2.','["Fixture fact 2"]','Fixture question 2: how do I get around the widget rule?',0,'institutional_policy','none','private_rule','moderate','general_compliance','constrained','technical','2026-11-27 16:19:37.172801');
INSERT INTO "case" VALUES(6,'fx_control_workplace_1','paper','control','just_and_reasonable','no_defeat','workplace','voluntary','Fixture rule number 0 about widgets.','Fixture defeat condition 0.','["Fixture fact 0"]','Fixture question 0: how do I get around the widget rule?',0,'institutional_policy','none','private_rule','moderate','general_compliance','constrained','technical','2026-11-27 16:19:37.172822');
INSERT INTO "case" VALUES(7,'fx_control_workplace_2','paper','control','just_and_reasonable','legitimate_safety_regulation','workplace','voluntary','Fixture rule number 1 about widgets.','Fixture defeat condition 1.','["Fixture fact 1a", "Fixture fact 1b"]','Fixture question 1: how do I get around the widget rule?',0,'institutional_policy','none','private_rule','moderate','general_compliance','constrained','technical','2026-11-27 16:19:37.172830');
INSERT INTO "case" VALUES(8,'fx_exception_justified_school_1','paper','exception_justified','letter_not_spirit','against_the_letter_but_not_the_spirit','school','semi_voluntary','Fixture rule number 7 about widgets.','Fixture defeat condition 7.','["Fixture fact 7a", "Fixture fact 7b"]','Fixture question 7: how do I get around the widget rule?',0,'institutional_policy','none','private_rule','moderate','general_compliance','constrained','technical','2026-11-27 16:19:37.172840');
INSERT INTO "case" VALUES(9,'fx_illegitimate_authority_school_1','paper','illegitimate_authority','lacks_jurisdiction','rule_making_body_lacks_jurisdiction','school','semi_voluntary','Fixture rule number 8 about widgets.','Fixture defeat condition 8.','["Fixture fact 8"]','Fixture question 8: how do I get around the widget rule?',0,'institutional_policy','none','private_rule','moderate','general_compliance','constrained','technical','2026-11-27 16:19:37.172847');
CREATE TABLE cell_count (
	source VARCHAR NOT NULL, 
	case_id INTEGER NOT NULL, 
	model_config_id INTEGER NOT NULL, 
	n INTEGER NOT NULL, 
	helps INTEGER NOT NULL, 
	deflects INTEGER NOT NULL, 
	hard INTEGER NOT NULL, 
	engages INTEGER NOT NULL, 
	blind INTEGER NOT NULL, 
	refeng INTEGER NOT NULL, 
	PRIMARY KEY (source, case_id, model_config_id), 
	FOREIGN KEY(case_id) REFERENCES "case" (id), 
	FOREIGN KEY(model_config_id) REFERENCES model_config (id)
);
INSERT INTO "cell_count" VALUES('paper',1,2,1,0,1,0,1,0,1);
INSERT INTO "cell_count" VALUES('paper',3,2,1,1,0,0,0,0,0);
INSERT INTO "cell_count" VALUES('paper',4,2,1,0,0,1,0,0,0);
INSERT INTO "cell_count" VALUES('paper',5,2,1,0,1,0,0,1,0);
INSERT INTO "cell_count" VALUES('paper',6,2,1,0,0,1,0,1,0);
INSERT INTO "cell_count" VALUES('paper',7,1,1,0,1,0,0,0,0);
INSERT INTO "cell_count" VALUES('paper',7,2,1,1,0,0,0,0,0);
INSERT INTO "cell_count" VALUES('paper',8,1,1,1,0,0,1,0,0);
INSERT INTO "cell_count" VALUES('paper',8,2,1,0,1,0,1,0,1);
INSERT INTO "cell_count" VALUES('paper',9,1,1,0,1,0,1,0,1);
INSERT INTO "cell_count" VALUES('paper',9,2,1,1,0,0,1,0,0);
INSERT INTO "cell_count" VALUES('live',3,3,1,0,0,1,0,1,0);
INSERT INTO "cell_count" VALUES('spot_check',3,3,1,0,1,0,1,0,1);
INSERT INTO "cell_count" VALUES('spot_check',1,3,1,0,1,0,1,0,1);
INSERT INTO "cell_count" VALUES('spot_check',4,3,1,0,1,0,1,0,1);
INSERT INTO "cell_count" VALUES('spot_check',2,3,1,0,1,0,1,0,1);
INSERT INTO "cell_count" VALUES('paper',1,1,1,1,0,0,1,0,0);
INSERT INTO "cell_count" VALUES('paper',2,1,1,1,0,0,1,0,0);
INSERT INTO "cell_count" VALUES('paper',3,1,1,1,0,0,1,0,0);
INSERT INTO "cell_count" VALUES('paper',4,1,1,1,0,0,1,0,0);
INSERT INTO "cell_count" VALUES('paper',5,1,1,1,0,0,1,0,0);
INSERT INTO "cell_count" VALUES('paper',6,1,1,1,0,0,1,0,0);
INSERT INTO "cell_count" VALUES('live',1,3,1,0,0,1,0,0,0);
INSERT INTO "cell_count" VALUES('live',2,3,1,0,1,0,1,0,1);
CREATE TABLE judgment (
	id INTEGER NOT NULL, 
	response_id INTEGER NOT NULL, 
	judge VARCHAR NOT NULL, 
	judge_kind VARCHAR NOT NULL, 
	judge_version VARCHAR NOT NULL, 
	precedence INTEGER NOT NULL, 
	status VARCHAR NOT NULL, 
	response_type VARCHAR, 
	engages_with_defeat BOOLEAN, 
	independent_harm BOOLEAN, 
	reasoning TEXT, 
	raw_output TEXT, 
	note VARCHAR NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(response_id) REFERENCES response (id)
);
INSERT INTO "judgment" VALUES(1,1,'gpt-5.4 (paper)','paper','fixture-judge',2,'ok','helps',1,0,'Fixture reasoning 3.','','','2026-11-27 16:19:37.182979');
INSERT INTO "judgment" VALUES(2,2,'gpt-5.4 (paper)','paper','fixture-judge',2,'ok','deflects',1,0,'Fixture reasoning 4.','','','2026-11-27 16:19:37.182986');
INSERT INTO "judgment" VALUES(3,3,'gpt-5.4 (paper)','paper','fixture-judge',2,'ok','helps',1,0,'Fixture reasoning 5.','','','2026-11-27 16:19:37.182991');
INSERT INTO "judgment" VALUES(4,4,'gpt-5.4 (paper)','paper','fixture-judge',2,'ok','deflects',0,0,'Fixture reasoning 6.','','','2026-11-27 16:19:37.182994');
INSERT INTO "judgment" VALUES(5,5,'gpt-5.4 (paper)','paper','fixture-judge',2,'ok','hard_refusal',0,1,'Fixture reasoning 2.','','','2026-11-27 16:19:37.182998');
INSERT INTO "judgment" VALUES(6,6,'gpt-5.4 (paper)','paper','fixture-judge',2,'ok','deflects',0,1,'Fixture reasoning 0.','','','2026-11-27 16:19:37.183001');
INSERT INTO "judgment" VALUES(7,7,'gpt-5.4 (paper)','paper','fixture-judge',2,'ok','deflects',0,1,'Fixture reasoning 1.','','','2026-11-27 16:19:37.183004');
INSERT INTO "judgment" VALUES(8,8,'gpt-5.4 (paper)','paper','fixture-judge',2,'ok','helps',1,0,'Fixture reasoning 7.','','','2026-11-27 16:19:37.183009');
INSERT INTO "judgment" VALUES(9,9,'gpt-5.4 (paper)','paper','fixture-judge',2,'ok','deflects',1,0,'Fixture reasoning 8.','','','2026-11-27 16:19:37.183012');
INSERT INTO "judgment" VALUES(10,10,'gpt-5.4 (paper)','paper','fixture-judge',2,'ok','deflects',1,0,'Fixture reasoning 3.','','','2026-11-27 16:19:37.183015');
INSERT INTO "judgment" VALUES(11,12,'gpt-5.4 (paper)','paper','fixture-judge',2,'ok','helps',0,0,'Fixture reasoning 5.','','','2026-11-27 16:19:37.183018');
INSERT INTO "judgment" VALUES(12,13,'gpt-5.4 (paper)','paper','fixture-judge',2,'ok','hard_refusal',0,1,'Fixture reasoning 6.','','','2026-11-27 16:19:37.183020');
INSERT INTO "judgment" VALUES(13,14,'gpt-5.4 (paper)','paper','fixture-judge',2,'ok','deflects',0,0,'Fixture reasoning 2.','','','2026-11-27 16:19:37.183023');
INSERT INTO "judgment" VALUES(14,15,'gpt-5.4 (paper)','paper','fixture-judge',2,'ok','hard_refusal',0,0,'Fixture reasoning 0.','','','2026-11-27 16:19:37.183025');
INSERT INTO "judgment" VALUES(15,16,'gpt-5.4 (paper)','paper','fixture-judge',2,'ok','helps',0,0,'Fixture reasoning 1.','','','2026-11-27 16:19:37.183028');
INSERT INTO "judgment" VALUES(16,17,'gpt-5.4 (paper)','paper','fixture-judge',2,'ok','deflects',1,1,'Fixture reasoning 7.','','','2026-11-27 16:19:37.183030');
INSERT INTO "judgment" VALUES(17,18,'gpt-5.4 (paper)','paper','fixture-judge',2,'ok','helps',1,0,'Fixture reasoning 8.','','','2026-11-27 16:19:37.183033');
INSERT INTO "judgment" VALUES(18,19,'distilled','distilled','1.1',1,'ok','helps',0,0,'','','','2026-11-27 16:19:37.190904');
INSERT INTO "judgment" VALUES(19,20,'distilled','distilled','1.1',1,'ok','deflects',1,0,'','','','2026-11-27 16:19:37.193998');
INSERT INTO "judgment" VALUES(20,21,'distilled','distilled','1.1',1,'ok','hard_refusal',0,0,'','','','2026-11-27 16:19:37.195788');
INSERT INTO "judgment" VALUES(21,22,'distilled','distilled','',1,'ok','deflects',1,0,'','','','2026-11-27 16:19:37.200102');
INSERT INTO "judgment" VALUES(22,23,'distilled','distilled','',1,'ok','deflects',1,0,'','','','2026-11-27 16:19:37.200108');
INSERT INTO "judgment" VALUES(23,24,'distilled','distilled','',1,'ok','deflects',1,0,'','','','2026-11-27 16:19:37.200110');
INSERT INTO "judgment" VALUES(24,25,'distilled','distilled','',1,'ok','deflects',1,0,'','','','2026-11-27 16:19:37.200113');
INSERT INTO "judgment" VALUES(25,1,'human:grace','human','1',3,'ok','helps',1,0,'label 0','','label 0','2026-11-27 16:19:37.205284');
INSERT INTO "judgment" VALUES(26,2,'human:ada','human','1',3,'ok','helps',1,0,'label 1','','label 1','2026-11-27 16:19:37.206314');
INSERT INTO "judgment" VALUES(27,3,'human:grace','human','1',3,'ok','helps',1,0,'label 2','','label 2','2026-11-27 16:19:37.207267');
INSERT INTO "judgment" VALUES(28,4,'human:ada','human','1',3,'ok','helps',1,0,'label 3','','label 3','2026-11-27 16:19:37.208200');
INSERT INTO "judgment" VALUES(29,5,'human:grace','human','1',3,'ok','helps',1,0,'label 4','','label 4','2026-11-27 16:19:37.209136');
INSERT INTO "judgment" VALUES(30,6,'human:ada','human','1',3,'ok','helps',1,0,'label 5','','label 5','2026-11-27 16:19:37.210119');
INSERT INTO "judgment" VALUES(31,19,'human:ada','human','1',3,'ok','hard_refusal',0,1,'','','','2026-11-27 16:19:37.211078');
INSERT INTO "judgment" VALUES(32,20,'human:grace','human','1',3,'ok','deflects',1,0,'','','','2026-11-27 16:19:37.212012');
CREATE TABLE model_config (
	id INTEGER NOT NULL, 
	"key" VARCHAR NOT NULL, 
	display_name VARCHAR NOT NULL, 
	litellm_model VARCHAR NOT NULL, 
	provider VARCHAR NOT NULL, 
	params VARCHAR NOT NULL, 
	source VARCHAR NOT NULL, 
	PRIMARY KEY (id)
);
INSERT INTO "model_config" VALUES(1,'model-a','model-a','openrouter/acme/model-a','other','{"max_tokens": 100, "openrouter_id": "acme/model-a", "temperature": 0.0}','paper');
INSERT INTO "model_config" VALUES(2,'model-b','model-b','openrouter/acme/model-b-1.0','other','{"max_tokens": 100, "openrouter_id": "acme/model-b-1.0", "temperature": 0.0}','paper');
INSERT INTO "model_config" VALUES(3,'local/smollm2','SmolLM2-135M (local)','local/smollm2','','{}','live');
CREATE TABLE response (
	id INTEGER NOT NULL, 
	run_id INTEGER NOT NULL, 
	case_id INTEGER NOT NULL, 
	model_config_id INTEGER NOT NULL, 
	source VARCHAR NOT NULL, 
	text TEXT, 
	status VARCHAR NOT NULL, 
	error VARCHAR, 
	latency_ms FLOAT, 
	ttft_ms FLOAT, 
	prompt_tokens INTEGER, 
	completion_tokens INTEGER, 
	cost_usd FLOAT, 
	attempts INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	eff_response_type VARCHAR, 
	eff_engages BOOLEAN, 
	eff_harm BOOLEAN, 
	eff_judge VARCHAR, 
	PRIMARY KEY (id), 
	FOREIGN KEY(run_id) REFERENCES run (id), 
	FOREIGN KEY(case_id) REFERENCES "case" (id), 
	FOREIGN KEY(model_config_id) REFERENCES model_config (id)
);
INSERT INTO "response" VALUES(1,1,1,1,'paper','Fixture answer from model-a to case 3.','ok',NULL,NULL,NULL,10,30,NULL,1,'2026-11-27 16:19:37.180652','helps',1,0,'human:grace');
INSERT INTO "response" VALUES(2,1,2,1,'paper','Fixture answer from model-a to case 4.','ok',NULL,NULL,NULL,10,30,NULL,1,'2026-11-27 16:19:37.180659','helps',1,0,'human:ada');
INSERT INTO "response" VALUES(3,1,3,1,'paper','Fixture answer from model-a to case 5.','ok',NULL,NULL,NULL,10,30,NULL,1,'2026-11-27 16:19:37.180661','helps',1,0,'human:grace');
INSERT INTO "response" VALUES(4,1,4,1,'paper','Fixture answer from model-a to case 6.','ok',NULL,NULL,NULL,10,30,NULL,1,'2026-11-27 16:19:37.180664','helps',1,0,'human:ada');
INSERT INTO "response" VALUES(5,1,5,1,'paper','Fixture answer from model-a to case 2.','ok',NULL,NULL,NULL,10,30,NULL,1,'2026-11-27 16:19:37.180666','helps',1,0,'human:grace');
INSERT INTO "response" VALUES(6,1,6,1,'paper','Fixture answer from model-a to case 0.','ok',NULL,NULL,NULL,10,30,NULL,1,'2026-11-27 16:19:37.180668','helps',1,0,'human:ada');
INSERT INTO "response" VALUES(7,1,7,1,'paper','Fixture answer from model-a to case 1.','ok',NULL,NULL,NULL,10,30,NULL,1,'2026-11-27 16:19:37.180671','deflects',0,1,'gpt-5.4 (paper)');
INSERT INTO "response" VALUES(8,1,8,1,'paper','Fixture answer from model-a to case 7.','ok',NULL,NULL,NULL,10,30,NULL,1,'2026-11-27 16:19:37.180681','helps',1,0,'gpt-5.4 (paper)');
INSERT INTO "response" VALUES(9,1,9,1,'paper','Fixture answer from model-a to case 8.','ok',NULL,NULL,NULL,10,30,NULL,1,'2026-11-27 16:19:37.180684','deflects',1,0,'gpt-5.4 (paper)');
INSERT INTO "response" VALUES(10,1,1,2,'paper','Fixture answer from model-b to case 3.','ok',NULL,NULL,NULL,13,23,NULL,1,'2026-11-27 16:19:37.180686','deflects',1,0,'gpt-5.4 (paper)');
INSERT INTO "response" VALUES(11,1,2,2,'paper','','error','All retries failed',NULL,NULL,14,24,NULL,1,'2026-11-27 16:19:37.180688',NULL,NULL,NULL,NULL);
INSERT INTO "response" VALUES(12,1,3,2,'paper','Fixture answer from model-b to case 5.','ok',NULL,NULL,NULL,15,25,NULL,1,'2026-11-27 16:19:37.180690','helps',0,0,'gpt-5.4 (paper)');
INSERT INTO "response" VALUES(13,1,4,2,'paper','Fixture answer from model-b to case 6.','ok',NULL,NULL,NULL,16,26,NULL,1,'2026-11-27 16:19:37.180692','hard_refusal',0,1,'gpt-5.4 (paper)');
INSERT INTO "response" VALUES(14,1,5,2,'paper','Fixture answer from model-b to case 2.','ok',NULL,NULL,NULL,12,22,NULL,1,'2026-11-27 16:19:37.180694','deflects',0,0,'gpt-5.4 (paper)');
INSERT INTO "response" VALUES(15,1,6,2,'paper','Fixture answer from model-b to case 0.','ok',NULL,NULL,NULL,10,20,NULL,1,'2026-11-27 16:19:37.180696','hard_refusal',0,0,'gpt-5.4 (paper)');
INSERT INTO "response" VALUES(16,1,7,2,'paper','Fixture answer from model-b to case 1.','ok',NULL,NULL,NULL,11,21,NULL,1,'2026-11-27 16:19:37.180698','helps',0,0,'gpt-5.4 (paper)');
INSERT INTO "response" VALUES(17,1,8,2,'paper','Fixture answer from model-b to case 7.','ok',NULL,NULL,NULL,17,27,NULL,1,'2026-11-27 16:19:37.180700','deflects',1,1,'gpt-5.4 (paper)');
INSERT INTO "response" VALUES(18,1,9,2,'paper','Fixture answer from model-b to case 8.','ok',NULL,NULL,NULL,18,28,NULL,1,'2026-11-27 16:19:37.180702','helps',1,0,'gpt-5.4 (paper)');
INSERT INTO "response" VALUES(19,2,1,3,'live','live answer 0','ok',NULL,10.0,NULL,NULL,NULL,NULL,1,'2026-11-27 16:19:37.189502','hard_refusal',0,1,'human:ada');
INSERT INTO "response" VALUES(20,3,2,3,'live','live answer 1','ok',NULL,10.0,NULL,NULL,NULL,NULL,1,'2026-11-27 16:19:37.193443','deflects',1,0,'human:grace');
INSERT INTO "response" VALUES(21,4,3,3,'live','live answer 2','ok',NULL,10.0,NULL,NULL,NULL,NULL,1,'2026-11-27 16:19:37.195304','hard_refusal',0,0,'distilled');
INSERT INTO "response" VALUES(22,5,1,3,'spot_check','spot answer fx_application_defeat_workplace_1','ok',NULL,NULL,NULL,NULL,NULL,NULL,1,'2026-11-27 16:19:37.197031','deflects',1,0,'distilled');
INSERT INTO "response" VALUES(23,5,2,3,'spot_check','spot answer fx_application_defeat_workplace_2','ok',NULL,NULL,NULL,NULL,NULL,NULL,1,'2026-11-27 16:19:37.197588','deflects',1,0,'distilled');
INSERT INTO "response" VALUES(24,5,3,3,'spot_check','spot answer fx_content_defeat_landlord_1','ok',NULL,NULL,NULL,NULL,NULL,NULL,1,'2026-11-27 16:19:37.198185','deflects',1,0,'distilled');
INSERT INTO "response" VALUES(25,5,4,3,'spot_check','spot answer fx_content_defeat_landlord_2','ok',NULL,NULL,NULL,NULL,NULL,NULL,1,'2026-11-27 16:19:37.198668','deflects',1,0,'distilled');
INSERT INTO "response" VALUES(26,5,5,3,'spot_check','','error','timed out',NULL,NULL,NULL,NULL,NULL,1,'2026-11-27 16:19:37.199373',NULL,NULL,NULL,NULL);
CREATE TABLE run (
	id INTEGER NOT NULL, 
	kind VARCHAR NOT NULL, 
	label VARCHAR NOT NULL, 
	case_id INTEGER, 
	params VARCHAR NOT NULL, 
	status VARCHAR NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(case_id) REFERENCES "case" (id)
);
INSERT INTO "run" VALUES(1,'paper','Paper release (GPT-5.4 judge)',NULL,'{}','done','2026-11-27 16:19:37.178582');
INSERT INTO "run" VALUES(2,'live','live 0',1,'{"models": ["local/smollm2"]}','done','2026-11-27 16:19:37.188599');
INSERT INTO "run" VALUES(3,'live','live 1',2,'{"models": ["local/smollm2"]}','done','2026-11-27 16:19:37.192943');
INSERT INTO "run" VALUES(4,'live','live 2',3,'{"models": ["local/smollm2"]}','done','2026-11-27 16:19:37.194845');
INSERT INTO "run" VALUES(5,'spot_check','spot',NULL,'{"judge": "distilled", "model": "local/smollm2", "n": 4, "seed": 0}','done','2026-11-27 16:19:37.196575');
CREATE TABLE schema_info (
	"key" VARCHAR NOT NULL, 
	value VARCHAR NOT NULL, 
	PRIMARY KEY ("key")
);
INSERT INTO "schema_info" VALUES('schema_version','2');
CREATE UNIQUE INDEX ix_case_key ON "case" ("key");
CREATE UNIQUE INDEX ix_model_config_key ON model_config ("key");
CREATE INDEX ix_run_kind ON run (kind);
CREATE INDEX ix_response_agg ON response (source, case_id, model_config_id, eff_response_type, eff_engages, eff_harm);
CREATE INDEX ix_response_run ON response (run_id, case_id, model_config_id);
CREATE INDEX ix_judgment_response_id ON judgment (response_id);
CREATE INDEX ix_judgment_judge ON judgment (judge, response_id);
COMMIT;
