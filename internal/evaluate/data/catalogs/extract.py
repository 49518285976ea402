#!/usr/bin/env python3
"""Extract the eventSource:eventName pairs that public detection catalogs name.

Writes one <source>.txt per catalog into the output directory, for
`keyleak eval`'s coverage per source. It reads local git clones only (no
network) and copies names, not rule text.

    go run ./assess/internal/gennames -all -botocore "$BOTOCORE_DATA" -o /tmp/all-names.txt
    python3 internal/evaluate/data/catalogs/extract.py --clones DIR --names /tmp/all-names.txt \
        --cloudtrail-only assess/testdata/cloudtrail-only.txt --out internal/evaluate/data/catalogs

DIR holds one bare or normal clone per repository, named owner+name
(adanalvarez+TrailDiscover, DataDog+stratus-red-team, SigmaHQ+sigma,
elastic+detection-rules, panther-labs+panther-analysis, invictus-ir+aws-cheatsheet,
aws-samples+aws-incident-response-playbooks), each read at its HEAD. Needs PyYAML.

Names a catalog gives that CloudTrail does not write are corrected (the
output keeps the catalog's spelling as was=...) or left out (listed in the
output's header), by the FIX table below; a name no table resolves stops the
script, so that every decision is written down here.
"""
import argparse, ast, collections, datetime, json, os, re, subprocess, sys, tomllib
import yaml

ap = argparse.ArgumentParser()
ap.add_argument('--clones', required=True)
ap.add_argument('--names', required=True, help='gennames -all output')
ap.add_argument('--cloudtrail-only', required=True)
ap.add_argument('--out', required=True)
args = ap.parse_args()
M, OUT = args.clones, args.out
os.makedirs(OUT, exist_ok=True)

NAMES = collections.defaultdict(set)
for l in open(args.names):
    if l.startswith('#') or not l.strip(): continue
    s, *ns = l.split()
    NAMES[s].update(ns)
BYNAME = collections.defaultdict(set)
for s, ns in NAMES.items():
    for n in ns: BYNAME[n].add(s)

def repo(name):
    for cand in (f'{M}/{name}/repo', f'{M}/{name}'):
        if os.path.isdir(cand): return cand
    sys.exit(f'no clone of {name} in {M}')

def git_show(r, path):
    return subprocess.run(['git', '-C', r, 'show', f'HEAD:{path}'], capture_output=True, text=True, check=True).stdout

def git_ls(r, prefix=''):
    return subprocess.run(['git', '-C', r, 'ls-tree', '-r', '--name-only', 'HEAD', '--', prefix], capture_output=True, text=True, check=True).stdout.split()

def git_head(r):
    return subprocess.run(['git', '-C', r, 'log', '-1', '--format=%H %cs'], capture_output=True, text=True, check=True).stdout.split()



# ---- CloudTrail names that are no API operation (from the project's list)
CT_ONLY = collections.defaultdict(set)
for l in open(args.cloudtrail_only):
    l = l.split('#')[0].strip()
    if l:
        s, n = l.split()[:2]
        CT_ONLY[s].add(n)

def ok(s, n):
    return n in NAMES.get(s, ()) or n in CT_ONLY.get(s, ())

# ---- Lambda: the spelling CloudTrail writes for the plain operation name.
LAMBDA_V2 = {'AddPermission', 'RemovePermission', 'UpdateFunctionCode', 'UpdateFunctionConfiguration',
             'GetFunction', 'GetFunctionConfiguration', 'GetPolicy'}
def lambda_name(n):
    if ok('lambda.amazonaws.com', n):
        return n
    base = re.sub(r'(20\d{6})?(v2)?$', '', n)
    for cand in ([base + d + 'v2' for d in ('20150331', '20181031')] if base in LAMBDA_V2 else []) + \
            [base + d for d in ('20150331', '20181031', '20170331', '20171031', '20160819', '20141113')] + [base]:
        if ok('lambda.amazonaws.com', cand):
            return cand
    return None

# ---- Where a source names an event by a name CloudTrail does not write
# (an IAM permission, a misspelling, the wrong service), the name CloudTrail
# writes; None drops it. Keyed by (source or '*', name).
FIX = {
    ('s3.amazonaws.com', 'PutEncryptionConfiguration'): ('s3.amazonaws.com', 'PutBucketEncryption'),
    ('s3.amazonaws.com', 'PutLifecycleConfiguration'): ('s3.amazonaws.com', 'PutBucketLifecycle'),
    ('s3.amazonaws.com', 'PutReplicationConfiguration'): ('s3.amazonaws.com', 'PutBucketReplication'),
    ('s3.amazonaws.com', 'ReplicateObject'): None,  # a permission; replication writes no such API call
    ('s3.amazonaws.com', 'ListBucket'): ('s3.amazonaws.com', 'ListObjects'),
    ('s3.amazonaws.com', 'ListAllMyBuckets'): ('s3.amazonaws.com', 'ListBuckets'),
    ('s3.amazonaws.com', 'GetPublicAccessBlock'): ('s3.amazonaws.com', 'GetBucketPublicAccessBlock'),
    ('s3.amazonaws.com', 'PutPublicAccessBlock'): ('s3.amazonaws.com', 'PutBucketPublicAccessBlock'),
    ('s3.amazonaws.com', 'DeletePublicAccessBlock'): ('s3.amazonaws.com', 'DeleteBucketPublicAccessBlock'),
    ('route53.amazonaws.com', 'DisableDomainTransferLock'): ('route53domains.amazonaws.com', 'DisableDomainTransferLock'),
    ('route53.amazonaws.com', 'TransferDomainToAnotherAwsAccount'): ('route53domains.amazonaws.com', 'TransferDomainToAnotherAwsAccount'),
    ('elasticache.amazonaws.com', 'AuthorizeCacheSecurityGroupEgress'): None,  # no such operation: cache security groups have ingress rules only
    ('elasticache.amazonaws.com', 'RevokeCacheSecurityGroupEgress'): None,
    ('*', 'DescribeOrgnanizationalUnit'): ('organizations.amazonaws.com', 'DescribeOrganizationalUnit'),
    ('*', 'ReplaceIamInstanceProfile'): ('ec2.amazonaws.com', 'ReplaceIamInstanceProfileAssociation'),
    ('bedrock.amazonaws.com', 'DeleteModelCustomizationJob'): None,  # no such operation (StopModelCustomizationJob exists)
    ('*', 'DeleteObjectVersion'): ('s3.amazonaws.com', 'DeleteObject'),  # permission names: CloudTrail logs the call with a versionId
    ('*', 'GetObjectVersion'): ('s3.amazonaws.com', 'GetObject'),
    ('*', 'GetObjectVersionAcl'): ('s3.amazonaws.com', 'GetObjectAcl'),
    ('*', 'PutObjectVersionAcl'): ('s3.amazonaws.com', 'PutObjectAcl'),
    ('*', 'PutAccountPasswordPolicy'): None,  # no such operation (UpdateAccountPasswordPolicy exists)
    ('macie.amazonaws.com', 'UpdateMacieSession'): ('macie2.amazonaws.com', 'UpdateMacieSession'),  # Macie classic is retired
    ('sso.amazonaws.com', 'CreateToken'): ('sso-oauth.amazonaws.com', 'CreateToken'),
    ('sso.amazonaws.com', 'Authenticate'): None,  # could not verify that CloudTrail writes it  # no such operation (StopModelCustomizationJob exists)
}

# ---- The service an event name belongs to when a source gives no eventSource
# and several services have an operation of that name.
PREFER = {
    'CreateUser': 'iam.amazonaws.com', 'ListUsers': 'iam.amazonaws.com', 'CreateGroup': 'iam.amazonaws.com',
    'CreateRole': 'iam.amazonaws.com', 'ListRoles': 'iam.amazonaws.com', 'ListGroups': 'iam.amazonaws.com',
    'CreatePolicy': 'iam.amazonaws.com', 'CreatePolicyVersion': 'iam.amazonaws.com', 'GetUser': 'iam.amazonaws.com',
    'CreateAccessKey': 'iam.amazonaws.com', 'ListAccessKeys': 'iam.amazonaws.com', 'UpdateAccessKey': 'iam.amazonaws.com',
    'DeleteAccessKey': 'iam.amazonaws.com', 'CreateServiceLinkedRole': 'iam.amazonaws.com',
    'CreateInstanceProfile': 'iam.amazonaws.com', 'ListInstanceProfiles': 'iam.amazonaws.com',
    'GetObject': 's3.amazonaws.com', 'PutObject': 's3.amazonaws.com', 'DeleteObject': 's3.amazonaws.com',
    'ListKeys': 'kms.amazonaws.com', 'GetAuthorizationToken': 'ecr.amazonaws.com',
    'DescribeInstances': 'ec2.amazonaws.com', 'StartInstances': 'ec2.amazonaws.com', 'RunInstances': 'ec2.amazonaws.com',
    'CreateSnapshot': 'ec2.amazonaws.com', 'DeleteSnapshot': 'ec2.amazonaws.com', 'CreateRoute': 'ec2.amazonaws.com',
    'StartSession': 'ssm.amazonaws.com', 'DescribeParameters': 'ssm.amazonaws.com', 'SendCommand': 'ssm.amazonaws.com',
    'DescribeInstanceInformation': 'ssm.amazonaws.com', 'ListDocuments': 'ssm.amazonaws.com',
    'AssumeRole': 'sts.amazonaws.com', 'GetCallerIdentity': 'sts.amazonaws.com',
    'ListIdentities': 'ses.amazonaws.com', 'DeleteIdentity': 'ses.amazonaws.com',
    'DeleteDetector': 'guardduty.amazonaws.com', 'UpdateDetector': 'guardduty.amazonaws.com',
    'DeleteMembers': 'guardduty.amazonaws.com', 'DisassociateMembers': 'guardduty.amazonaws.com',
    'StopMonitoringMembers': 'guardduty.amazonaws.com', 'DisassociateFromMasterAccount': 'guardduty.amazonaws.com',
    'ListMembers': 'guardduty.amazonaws.com',
    'DeleteRule': 'events.amazonaws.com', 'DisableRule': 'events.amazonaws.com',
    'DeleteDeliveryChannel': 'config.amazonaws.com', 'StopConfigurationRecorder': 'config.amazonaws.com',
    'DeleteConfigRule': 'config.amazonaws.com', 'DeleteFlowLogs': 'ec2.amazonaws.com',
    'DeleteCertificate': 'acm.amazonaws.com', 'RequestCertificate': 'acm.amazonaws.com',
    'EnableRegion': 'account.amazonaws.com', 'GetAlternateContact': 'account.amazonaws.com',
    'GetContactInformation': 'account.amazonaws.com', 'PutAlternateContact': 'account.amazonaws.com',
    'PutContactInformation': 'account.amazonaws.com',
    'CreateConnection': 'directconnect.amazonaws.com', 'PutResourcePolicy': 'secretsmanager.amazonaws.com',
    'DescribeFirewall': 'network-firewall.amazonaws.com', 'DescribeFirewallPolicy': 'network-firewall.amazonaws.com',
    'DescribeRuleGroup': 'network-firewall.amazonaws.com', 'DescribeResourcePolicy': 'network-firewall.amazonaws.com',
    'DescribeLoggingConfiguration': 'network-firewall.amazonaws.com', 'ListFirewalls': 'network-firewall.amazonaws.com',
    'ListFirewallPolicies': 'network-firewall.amazonaws.com', 'ListRuleGroups': 'network-firewall.amazonaws.com',
    'DescribeHub': 'securityhub.amazonaws.com', 'DescribeProducts': 'securityhub.amazonaws.com',
    'DescribeStandards': 'securityhub.amazonaws.com', 'DescribeStandardsControls': 'securityhub.amazonaws.com',
    'GetAccountPasswordPolicy': 'iam.amazonaws.com', 'PutAccountPasswordPolicy': 'iam.amazonaws.com',
    'UpdateAccountPasswordPolicy': 'iam.amazonaws.com', 'DescribeEventAggregates': 'health.amazonaws.com',
    'ListResourceTags': 'kms.amazonaws.com', 'CreateTopic': 'sns.amazonaws.com', 'SetTopicAttributes': 'sns.amazonaws.com',
    'SetVaultAccessPolicy': 'glacier.amazonaws.com', 'ConsoleLogin': 'signin.amazonaws.com',
    'GetSigninToken': 'signin.amazonaws.com', 'PasswordRecoveryRequested': 'signin.amazonaws.com',
    'SwitchRole': 'signin.amazonaws.com', 'PasswordUpdated': 'signin.amazonaws.com',
    'CreateToken': 'sso-oauth.amazonaws.com', 'RegisterManagedInstance': 'ssm.amazonaws.com',
    'BatchGetItem': 'dynamodb.amazonaws.com', 'GetItem': 'dynamodb.amazonaws.com',
    'CreateTrail': 'cloudtrail.amazonaws.com', 'StopLogging': 'cloudtrail.amazonaws.com', 'DeleteTrail': 'cloudtrail.amazonaws.com',
    'UpdateTrail': 'cloudtrail.amazonaws.com', 'PutEventSelectors': 'cloudtrail.amazonaws.com',
    'GetSecretValue': 'secretsmanager.amazonaws.com', 'GetParameter': 'ssm.amazonaws.com', 'GetParameters': 'ssm.amazonaws.com',
    'PutBucketPolicy': 's3.amazonaws.com', 'PutBucketAcl': 's3.amazonaws.com', 'ListBuckets': 's3.amazonaws.com',
    'GetBucketAcl': 's3.amazonaws.com', 'GetBucketVersioning': 's3.amazonaws.com', 'PutBucketVersioning': 's3.amazonaws.com',
    'GetPasswordData': 'ec2.amazonaws.com', 'CreateNetworkAclEntry': 'ec2.amazonaws.com',
    'AuthorizeSecurityGroupEgress': 'ec2.amazonaws.com', 'AuthorizeSecurityGroupIngress': 'ec2.amazonaws.com',
    'ModifySnapshotAttribute': 'ec2.amazonaws.com', 'ModifyImageAttribute': 'ec2.amazonaws.com',
    'ApplySecurityGroupsToLoadBalancer': 'elasticloadbalancing.amazonaws.com', 'SetSecurityGroups': 'elasticloadbalancing.amazonaws.com',
    'AuthorizeDBSecurityGroupIngress': 'rds.amazonaws.com', 'CreateDBSecurityGroup': 'rds.amazonaws.com',
    'ModifyDBSnapshotAttribute': 'rds.amazonaws.com', 'ListServiceQuotas': 'servicequotas.amazonaws.com',
    'CreateVirtualMFADevice': 'iam.amazonaws.com', 'ChangePassword': 'iam.amazonaws.com', 'DeactivateMFADevice': 'iam.amazonaws.com',
    'LeaveOrganization': 'organizations.amazonaws.com', 'SharedSnapshotCopyInitiated': 'ec2.amazonaws.com',
    'SharedSnapshotVolumeCreated': 'ec2.amazonaws.com', 'CreateEnvironment': 'cloudshell.amazonaws.com',
    'DeleteObjectVersion': 's3.amazonaws.com', 'GetObjectVersion': 's3.amazonaws.com',
    'GetObjectVersionAcl': 's3.amazonaws.com', 'PutObjectVersionAcl': 's3.amazonaws.com',
    'DeleteAccountPublicAccessBlock': 's3.amazonaws.com', 'DeleteBucket': 's3.amazonaws.com',
    'SetDefaultPolicyVersion': 'iam.amazonaws.com',
    'CheckSendQuota': None, 'CheckSendingEnabled': None, 'CheckVerifications': None,  # labels, not event names
}

problems = []
DROPPED = collections.defaultdict(set)

def resolve(cands, name, ref, srcname):
    """The CloudTrail (source, name) pairs a source's (candidate sources, name) stands for."""
    cands = set(cands or ())
    name = name.strip()
    if 'lambda.amazonaws.com' in cands and not ok('lambda.amazonaws.com', name):
        ln = lambda_name(name)
        if ln:
            return [('lambda.amazonaws.com', ln, None if ln == name else name)]
    hits = [s for s in cands if ok(s, name)]
    if hits:
        return [(s, name, None) for s in hits]
    if len(cands) == 1:
        by = {s for s in BYNAME.get(name, ())} | {s for s, ns in CT_ONLY.items() if name in ns}
        if len(by) == 1 and (list(cands)[0], name) not in FIX:
            s = by.pop()
            return [(s, name, list(cands)[0])]
    for s in sorted(cands) + ['*']:
        if (s, name) in FIX:
            f = FIX[(s, name)]
            if f is None:
                problems.append(f'{srcname}: dropped {s}:{name} ({ref})')
                DROPPED[srcname].add(f'{name} ({ref})')
                return []
            return [(f[0], f[1], name if f[1] != name else f'{s}')]
    if not cands or len(cands) > 1:
        if name in PREFER:
            p = PREFER[name]
            if p is None:
                problems.append(f'{srcname}: dropped {name} ({ref})')
                DROPPED[srcname].add(f'{name} ({ref})')
                return []
            if ok(p, name):
                return [(p, name, None)]
        by = {s for s in BYNAME.get(name, ())} | {s for s, ns in CT_ONLY.items() if name in ns}
        if len(by) == 1:
            return [(by.pop(), name, None)]
        if not cands:
            ln = lambda_name(name)
            if ln and ln != name and name[0].isupper() and ('Function' in name or 'Layer' in name or name in ('AddPermission', 'Invoke')):
                return [('lambda.amazonaws.com', ln, name)]
    problems.append(f'{srcname}: UNRESOLVED {sorted(cands)} {name} ({ref})')
    return []

class Catalog:
    def __init__(self, key, title, repo, url, note):
        self.key, self.title, self.repo, self.url, self.note = key, title, repo, url, note
        self.pairs = collections.defaultdict(lambda: {'refs': set(), 'was': set(), 'wild': False})
    def add(self, cands, name, ref, wild=False):
        for s, n, was in resolve(cands, name, ref, self.key):
            e = self.pairs[(s, n)]
            if ref: e['refs'].add(ref)
            if was: e['was'].add(was)
            e['wild'] = e['wild'] or wild
    def write(self, commit, date):
        with open(f'{OUT}/{self.key}.txt', 'w') as f:
            f.write(f'# {self.title}\n# {self.url}\n# {self.repo} at {commit} ({date}), read {datetime.date.today()}\n')
            for l in self.note.strip().splitlines():
                f.write(f'# {l}\n')
            for x in sorted(DROPPED[self.key]):
                f.write(f'# left out, not a name CloudTrail writes: {x}\n')
            f.write('# Format: eventSource eventName [wild] [was=name-in-source] [ref=entry,...]\n')
            for (s, n), e in sorted(self.pairs.items()):
                parts = [s, n]
                if e['wild']: parts.append('wild')
                for w in sorted(e['was']): parts.append('was=' + w)
                if e['refs']: parts.append('ref=' + ','.join(sorted(e['refs'])))
                f.write(' '.join(parts) + '\n')
        return len(self.pairs)

# ======== TrailDiscover
R = repo('adanalvarez+TrailDiscover')
c, d = git_head(R)
td = Catalog('traildiscover', 'TrailDiscover: CloudTrail events used in attacks, with "usedInWild" marks',
             'adanalvarez/TrailDiscover (docs/events.json)', 'https://traildiscover.cloud/ (https://github.com/adanalvarez/TrailDiscover)',
             '"wild" marks the events TrailDiscover says were used in real attacks (usedInWild: true).\nref is the TrailDiscover entry: <awsService>/<eventName>.')
for e in json.loads(git_show(R, 'docs/events.json')):
    td.add({e['eventSource']}, e['eventName'], f"{e['awsService']}/{e['eventName']}", wild=bool(e.get('usedInWild')))
print('traildiscover', td.write(c, d))

# ======== Stratus Red Team
R = repo('DataDog+stratus-red-team')
c, d = git_head(R)
st = Catalog('stratus', 'Stratus Red Team: AWS attack techniques, events of their detonation logs and detection notes',
             'DataDog/stratus-red-team (docs/attack-techniques/AWS)', 'https://stratus-red-team.cloud/attack-techniques/AWS/',
             'Pairs from each technique page\'s detonation-log list and the event names its Detection section gives.\nref is the technique ID.')
NOT_EVENTS = {'SecretString', 'NumberOfObjects', 'No', 'VcpuLimitExceeded', 'Client.UnauthorizedOperation'}
for f in git_ls(R, 'docs/attack-techniques/AWS'):
    tid = f.split('/')[-1].removesuffix('.md')
    if tid == 'index': continue
    md = git_show(R, f)
    for m in re.findall(r'^- `([a-z0-9-]+):([A-Za-z0-9]+)`', md, re.M):
        st.add({m[0] + '.amazonaws.com'}, m[1], tid)
    det = md.split('## Detection', 1)[-1].split('## Detonation logs', 1)[0] if '## Detection' in md else ''
    svc = tid.split('.')[2].split('-')[0]
    svcsrc = {'ec2': 'ec2', 'iam': 'iam', 's3': 's3', 'rds': 'rds', 'ssm': 'ssm', 'lambda': 'lambda', 'cloudtrail': 'cloudtrail',
              'secretsmanager': 'secretsmanager', 'sts': 'sts', 'bedrock': 'bedrock', 'ses': 'ses', 'sagemaker': 'sagemaker',
              'organizations': 'organizations', 'vpc': 'ec2', 'dns': 'route53resolver', 'console': 'signin',
              'rolesanywhere': 'rolesanywhere'}.get(svc)
    for n in re.findall(r'<code>([A-Z][A-Za-z0-9]+)</code>', det):
        if n in NOT_EVENTS: continue
        src = (svcsrc or '') + '.amazonaws.com'
        st.add({src} if ok(src, n) else set(), n, tid)
print('stratus', st.write(c, d))

# ======== Sigma
R = repo('SigmaHQ+sigma')
c, d = git_head(R)
sg = Catalog('sigma', 'Sigma: the AWS CloudTrail rules of the Sigma rule set',
             'SigmaHQ/sigma (rules/cloud/aws)', 'https://github.com/SigmaHQ/sigma/tree/master/rules/cloud/aws/cloudtrail',
             'Pairs from each rule\'s detection selections (exact eventName values).\nref is the rule file name.')
def walk(sel, out):
    if isinstance(sel, list):
        for s in sel: walk(s, out)
    elif isinstance(sel, dict):
        srcs, names = [], []
        for k, v in sel.items():
            base, _, mod = k.partition('|')
            vals = v if isinstance(v, list) else [v]
            if mod: continue
            if base == 'eventSource': srcs += [x for x in vals if isinstance(x, str)]
            elif base == 'eventName': names += [x for x in vals if isinstance(x, str)]
        out.append((srcs, names))
for f in git_ls(R, 'rules/cloud/aws'):
    if not f.endswith('.yml'): continue
    doc = yaml.safe_load(git_show(R, f))
    if doc.get('logsource', {}).get('service') != 'cloudtrail': continue
    sels = []
    for k, v in doc['detection'].items():
        if k != 'condition': walk(v, sels)
    allsrc = {s for ss, _ in sels for s in ss}
    for srcs, names in sels:
        for n in names:
            sg.add(set(srcs or allsrc), n, f.split('/')[-1])
print('sigma', sg.write(c, d))

# ======== Elastic
R = repo('elastic+detection-rules')
c, d = git_head(R)
el = Catalog('elastic', 'Elastic: the AWS CloudTrail detection rules of elastic/detection-rules',
             'elastic/detection-rules (rules/integrations/aws, rules_building_block)', 'https://github.com/elastic/detection-rules/tree/main/rules/integrations/aws',
             'Pairs from each rule query\'s event.provider and event.action values (negated conditions left out).\nref is the rule file name.')
PROV = re.compile(r'\b([a-z0-9-]+(?:\.[a-z0-9-]+)*\.amazonaws\.com)\b')
ACT = re.compile(r'(not\s+)?event\.action\s*(?::|==|\bin\b|\bIN\b|\blike\b|\bLIKE\b)\s*(\([^)]*\)|"[^"]*"|[A-Za-z0-9*?]+)', re.S)
for f in git_ls(R, 'rules/integrations/aws') + git_ls(R, 'rules_building_block'):
    if not f.endswith('.toml'): continue
    r = tomllib.loads(git_show(R, f))['rule']
    q = r.get('query', '')
    if 'cloudtrail' not in (q + str(r.get('index')) + str(r.get('tags'))).lower(): continue
    provs = set()
    for grp in re.findall(r'event\.provider\s*(?::|==|\bin\b|\bIN\b)\s*(\([^)]*\)|"[^"]*"|[A-Za-z0-9.-]+)', q):
        provs |= set(PROV.findall(grp))
    ref = f.split('/')[-1]
    for neg, grp in ACT.findall(q):
        if neg: continue
        for tok in re.findall(r'"([^"]+)"|\b([A-Za-z][A-Za-z0-9]*[*?]*)', grp):
            n = tok[0] or tok[1]
            if n in ('or', 'and', 'OR', 'AND', 'in', 'not'): continue
            if '*' in n or '?' in n:
                pre = n.rstrip('*')
                if '*' in pre or '?' in pre: continue
                ex = sorted({x for p in provs for x in NAMES.get(p, ()) if x.startswith(pre)})
                if 0 < len(ex) <= 3:
                    for x in ex: el.add(provs, x, ref)
                elif 'lambda.amazonaws.com' in provs and lambda_name(pre):
                    el.add(provs, lambda_name(pre), ref)
                continue
            el.add(provs, n, ref)
print('elastic', el.write(c, d))

# ======== Panther
R = repo('panther-labs+panther-analysis')
c, d = git_head(R)
pa = Catalog('panther', 'Panther: the AWS CloudTrail rules of panther-analysis',
             'panther-labs/panther-analysis (rules/aws_cloudtrail_rules)', 'https://github.com/panther-labs/panther-analysis/tree/develop/rules/aws_cloudtrail_rules',
             'Pairs from each rule\'s code (event names compared with eventName) and its tests that expect an alert.\nref is the RuleID.')
PV = re.compile(r'^[a-z0-9-]+(\.[a-z0-9-]+)*\.amazonaws\.com$')
for f in git_ls(R, 'rules/aws_cloudtrail_rules'):
    if not f.endswith('.yml'): continue
    meta = yaml.safe_load(git_show(R, f))
    rid = meta.get('RuleID')
    if not rid: continue
    code = ''
    if (meta.get('Filename') or '').endswith('.py'):
        code = git_show(R, 'rules/aws_cloudtrail_rules/' + meta['Filename'])
    strs = set()
    if code:
        strs = {n.value for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    if meta.get('Detection'):
        strs |= set(re.findall(r'[A-Za-z0-9.-]+', yaml.safe_dump(meta['Detection'])))
    provs = {s for s in strs if PV.match(s)}
    tprov = set()
    for t in meta.get('Tests') or []:
        log = t.get('Log')
        if t.get('ExpectedResult') and isinstance(log, dict) and log.get('eventSource'):
            tprov.add(log['eventSource'])
            if log.get('eventName') in strs or not strs:
                pa.add({log['eventSource']}, log['eventName'], rid)
    cands = provs or tprov
    for s in strs:
        if not re.match(r'^[A-Z][A-Za-z0-9]+$', s): continue
        if any(ok(p, s) for p in cands) or (cands and 'lambda.amazonaws.com' in cands and lambda_name(s)):
            pa.add(cands, s, rid)
        elif s in PREFER or any(s in ns for ns in CT_ONLY.values()):
            pa.add(set(), s, rid)
        elif ('*', s) in FIX or any((p, s) in FIX for p in cands):
            pa.add(cands, s, rid)
print('panther', pa.write(c, d))

# ======== Invictus IR cheat sheet (names only: sources assigned by service)
R = repo('invictus-ir+aws-cheatsheet')
c, d = git_head(R)
iv = Catalog('invictus', "Invictus IR: AWS CloudTrail cheat sheet",
             'invictus-ir/aws-cheatsheet (README.md)', 'https://github.com/invictus-ir/aws-cheatsheet',
             'The cheat sheet names events without their service; the eventSource is the service whose API has the name.\nref is the cheat sheet\'s tactic column.')
INV_FIX = {'StartInstance': 'StartInstances', 'CreateSnapShot': 'CreateSnapshot', 'ModifySnapshotAttributes': 'ModifySnapshotAttribute',
           'Invoke': None, 'DeleteAccountPublicAccessBlock': None}
md = git_show(R, 'README.md')
rows = [l for l in md.splitlines() if l.startswith('|')]
head = [h.strip() for h in rows[0].strip('|').split('|')]
for l in rows[2:]:
    cells = [x.strip() for x in l.strip('|').split('|')]
    for tac, n in zip(head, cells):
        if not n: continue
        m = n
        if n in INV_FIX and INV_FIX[n]: m = INV_FIX[n]
        if n == 'Invoke':
            iv.add({'lambda.amazonaws.com'}, 'Invoke', tac); continue
        if n == 'DeleteAccountPublicAccessBlock':
            iv.add({'s3.amazonaws.com'}, n, tac); continue
        e = iv.pairs
        before = set(e)
        iv.add(set(), m, tac)
        if m != n:
            for k in set(e) - before: e[k]['was'].add(n)
print('invictus', iv.write(c, d))

# ======== AWS incident response playbook: credential compromise
R = repo('aws-samples+aws-incident-response-playbooks')
c, d = git_head(R)
irp = Catalog('aws-irp', "AWS incident response playbooks: IRP-CredCompromise and its Athena queries",
              'aws-samples/aws-incident-response-playbooks (playbooks/IRP-CredCompromise.md, playbooks/resources/athena-queries-credential-compromise.sql)',
              'https://github.com/aws-samples/aws-incident-response-playbooks/blob/main/playbooks/IRP-CredCompromise.md',
              'Event names the playbook tells responders to look for, and those of its Athena queries.\nref is the file.')
pb = git_show(R, 'playbooks/IRP-CredCompromise.md')
for n in set(re.findall(r'eventName: ([A-Z][A-Za-z0-9]+)', pb)) | set(re.findall(r'`((?:Create|Get|Assume|Console)[A-Za-z]+)`', pb)):
    irp.add(set(), n, 'IRP-CredCompromise.md')
sql = git_show(R, 'playbooks/resources/athena-queries-credential-compromise.sql')
for stmt in sql.split(';'):
    srcs = set(re.findall(r"'([a-z0-9-]+\.amazonaws\.com)'", stmt))
    for grp in re.findall(r"eventName\s*(?:IN\s*\(([^)]*)\)|=\s*'([^']*)')", stmt):
        for n in re.findall(r"'([^']+)'", grp[0]) + ([grp[1]] if grp[1] else []):
            if srcs:
                irp.add(srcs, n, 'athena-queries-credential-compromise.sql')
            elif n in ('CreateFunction', 'UpdateFunctionCode', 'AddPermission', 'CreateEventSourceMapping'):
                irp.add({'lambda.amazonaws.com'}, n, 'athena-queries-credential-compromise.sql')
            else:
                irp.add(set(), n, 'athena-queries-credential-compromise.sql')
print('aws-irp', irp.write(c, d))

unresolved = [p for p in problems if 'UNRESOLVED' in p]
if unresolved:
    sys.exit('names no table resolves:\n' + '\n'.join(unresolved))
